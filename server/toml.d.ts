// The relay's build bundles config/default.toml as text (esbuild `loader: {".toml": "text"}`).
declare module "*.toml" {
  const text: string;
  export default text;
}
