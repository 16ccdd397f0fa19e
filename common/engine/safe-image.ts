// Which image URLs a peer may make us show: inline raster data URLs only. Anything else (an
// https: URL, an SVG that could carry script, a data:text/html) would make the browser fetch or
// run something a peer chose (keks-meet's chat images).

const SAFE_IMAGE = /^data:image\/(?:png|jpeg|gif|webp|avif|bmp);base64,[A-Za-z0-9+/]+=*$/;

export function isSafeImageDataUrl(url: string): boolean {
  return SAFE_IMAGE.test(url);
}
