// A part of the room page that is not needed to join (a panel, a feature), loaded on first use as
// its own code-split chunk, so the first page stays small. `preload()` starts the download early
// (idle time, hover or focus on the button that opens it) so that opening it stays instant.
// A failed load (the network dropped) is forgotten, so the next use tries again.

export class LazyModule<T> {
  private loading: Promise<T> | undefined;
  /** The module once loaded; render code reads it synchronously. */
  value: T | undefined;

  constructor(
    private readonly importer: () => Promise<T>,
    /** Told once the module is there (a component renders again). */
    private readonly onLoaded: () => void = () => undefined,
  ) {}

  /** The module, importing it on the first call. */
  load(): Promise<T> {
    this.loading ??= this.importer().then(
      (module) => {
        this.value = module;
        this.onLoaded();
        return module;
      },
      (error: unknown) => {
        this.loading = undefined;
        throw error;
      },
    );
    return this.loading;
  }

  /** Starts loading without waiting; a failure here is retried by the next `load()`. */
  preload(): void {
    this.load().catch(() => undefined);
  }
}

/**
 * Runs `task` once the page has settled after a join: `delayMs` after the call, then when the
 * main thread is idle (bounded, so a busy page still gets it). Returns a cancel function.
 * Why a delay: right after load the page is deriving keys, connecting and decoding the first
 * frames; on a 2-core machine, parsing idle chunks then would slow the join itself.
 */
export function whenSettled(task: () => void, delayMs: number): () => void {
  let idle: number | undefined;
  const timer = setTimeout(() => {
    if (typeof requestIdleCallback === "function") idle = requestIdleCallback(() => task(), { timeout: delayMs });
    else task();
  }, delayMs);
  return () => {
    clearTimeout(timer);
    if (idle !== undefined) cancelIdleCallback(idle);
  };
}
