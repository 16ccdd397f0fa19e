// Random access to a file the user picked, for the sender: each read slices the Blob and reads
// only that range, so a 2 GiB file never sits in memory (keks-meet streamed it; ranges
// also let a resumed transfer start at any offset).

export interface FileSource {
  /** Total size in bytes. */
  readonly size: number;
  /**
   * The bytes [offset, offset + length), cut short at the end of the file (empty at or past it).
   * Rejects if the browser can no longer read the file (e.g. it was changed or deleted on disk
   * after it was picked: NotReadableError).
   */
  read(offset: number, length: number): Promise<Uint8Array>;
}

export function fileSource(file: Blob): FileSource {
  return {
    size: file.size,
    async read(offset: number, length: number): Promise<Uint8Array> {
      // Callers compute these; a bad value is a bug there, not something to clamp silently.
      if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`bad offset ${offset}`);
      if (!Number.isSafeInteger(length) || length < 0) throw new RangeError(`bad length ${length}`);
      const end = Math.min(file.size, offset + length);
      if (offset >= end) return new Uint8Array(0);
      return new Uint8Array(await file.slice(offset, end).arrayBuffer());
    },
  };
}
