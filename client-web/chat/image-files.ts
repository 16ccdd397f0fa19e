// Which files of a paste or drop are images for the chat. Its own module because the page
// handles paste and drop before the chat panel (a lazily loaded chunk) has ever been opened.

/**
 * The image files in a `paste` or `drop` event's DataTransfer (during `dragover` the browser
 * hides the files, so call it on `drop`). Empty for text-only data: the app should only
 * `preventDefault()` when this returns something, so pasting text into fields keeps working.
 */
export function imageFilesFrom(dataTransfer: DataTransfer | null): File[] {
  if (!dataTransfer) return [];
  return Array.from(dataTransfer.files).filter((file) => file.type.startsWith("image/"));
}
