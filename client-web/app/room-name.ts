// How a room is named on screen: keks-meet secrets look like `Name#random` and only `Name` is
// shown. A secret without `#` is a typed room name (shown) unless it is a random secret made by
// "New meeting" (not shown: the page title is visible when sharing a screen).

const GENERATED_SECRET = /^[A-Za-z0-9_-]{22}$/;
const MAX_DISPLAY_CHARS = 64;

export function roomDisplayName(secret: string): string {
  const hash = secret.indexOf("#");
  const name = (hash === -1 ? (GENERATED_SECRET.test(secret) ? "" : secret) : secret.slice(0, hash)).trim();
  return name.length > 0 && name.length <= MAX_DISPLAY_CHARS ? name : "Meeting";
}
