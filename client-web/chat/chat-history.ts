// The chat history's memory bound. Lines are capped by count in the app; images also by size,
// since one line can hold megabytes: past the bound the oldest images give way to a short note
// and their lines (author, time) stay.

import type { ChatEntry } from "../components/mm-chat.js";

/**
 * Image data (data URL characters) the history keeps: 500 lines of 6 MiB images would be 3 GiB
 * of strings, before any decoding. 48 MiB holds dozens of our scaled 1 MiB pictures.
 */
export const MAX_CHAT_HISTORY_IMAGE_CHARS = 48 * 1024 * 1024;

export const DROPPED_IMAGE_NOTE = "(an earlier image, removed from the history to save memory)";

/** `entries` with its oldest images replaced by a note until the rest fit in `maxImageChars`. */
export function boundChatHistory(entries: readonly ChatEntry[], maxImageChars: number): ChatEntry[] {
  let total = 0;
  for (const entry of entries) if ("image" in entry.content) total += entry.content.image.length;
  if (total <= maxImageChars) return [...entries];
  return entries.map((entry) => {
    if (total <= maxImageChars || !("image" in entry.content)) return entry;
    total -= entry.content.image.length;
    return { ...entry, content: { text: DROPPED_IMAGE_NOTE } };
  });
}
