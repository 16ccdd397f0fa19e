// Where the start page's "Join" field should take us: a pasted meeting link as it is, or a typed
// meeting name turned into a room link (encoded so `%`, `?` and `#` stay part of the name).

import { formatRoomFragment } from "../../common/prefs/fragment.js";

/** Where the typed text should take us, or an error to show. */
export function joinTarget(input: string, origin: string): { url: string } | { error: string } {
  const text = input.trim();
  if (text === "") return { error: "Enter a meeting link or a meeting name." };
  if (/^https?:\/\//i.test(text)) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      return { error: "That link is not a valid address." };
    }
    if (url.hash.length <= 1) return { error: "That link has no meeting secret after “#”." };
    return { url: url.href };
  }
  return { url: `${origin}/room${formatRoomFragment(text)}` };
}
