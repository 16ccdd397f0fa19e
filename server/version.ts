// The relay's version, from package.json (inlined by the bundler), for `init` and /version.

import packageJson from "../package.json" with { type: "json" };

export const VERSION: string = packageJson.version;

/** keks-meet sends "keks-meet <version>" in init; we name ourselves the same way. */
export const INIT_VERSION = `meshmeet ${VERSION}`;
