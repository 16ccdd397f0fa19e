// One AudioContext for the whole page (keks-meet made one per microphone and per meter and never
// closed any). Users take a lease; the context is created by the first lease,
// closed when the last one is released, and made again by the next. Worklet modules are added
// once per context.
//
// Browsers start a context "suspended" unless the page has had a user gesture. Sharing the
// microphone is itself a gesture, so that case runs at once; meters of remote audio made before
// any gesture start at the first click or key press (`onSuspended` lets the page say so).

/** RNNoise is trained at 48 kHz and processes 480-sample (10 ms) frames only at that rate. */
export const AUDIO_SAMPLE_RATE = 48_000;

export interface AudioLease {
  readonly context: AudioContext;
  /** Once per lease; the context closes when no lease is left. */
  release(): void;
}

export interface SharedAudioContextOptions {
  /** Makes the context (tests pass their own); default: a 48 kHz interactive AudioContext. */
  readonly create?: () => AudioContext;
  /** Called when a new context could not start for want of a user gesture. */
  readonly onSuspended?: () => void;
}

export class SharedAudioContext {
  private context: AudioContext | undefined;
  private leases = 0;
  /** Worklet modules added to the current context, by URL. */
  private modules = new Map<string, Promise<void>>();
  private readonly create: () => AudioContext;
  private readonly onSuspended: (() => void) | undefined;
  /** Removes the listeners waiting for a gesture to resume a suspended context. */
  private stopWaitingForGesture: (() => void) | undefined;

  constructor(options: SharedAudioContextOptions = {}) {
    this.create = options.create ?? (() => new AudioContext({ sampleRate: AUDIO_SAMPLE_RATE, latencyHint: "interactive" }));
    this.onSuspended = options.onSuspended;
  }

  /** The context while any lease is held (for diagnostics and tests). */
  get current(): AudioContext | undefined {
    return this.context;
  }

  acquire(): AudioLease {
    const context = (this.context ??= this.open());
    this.leases++;
    let released = false;
    return {
      context,
      release: () => {
        if (released) return;
        released = true;
        this.leases--;
        if (this.leases === 0 && this.context === context) this.close();
      },
    };
  }

  /** Adds a worklet module to `context` once; a failed add is forgotten so a later call can retry. */
  addModule(context: AudioContext, url: string): Promise<void> {
    if (context !== this.context) return Promise.reject(new Error("that audio context was closed"));
    let added = this.modules.get(url);
    if (!added) {
      added = context.audioWorklet.addModule(url);
      this.modules.set(url, added);
      added.catch(() => {
        if (this.modules.get(url) === added) this.modules.delete(url);
      });
    }
    return added;
  }

  private open(): AudioContext {
    const context = this.create();
    this.modules = new Map();
    if (context.state === "suspended") {
      // resume() settles only once the browser lets it run; meanwhile a gesture may be needed.
      void context.resume();
      queueMicrotask(() => {
        if (context.state !== "suspended" || context !== this.context) return;
        this.onSuspended?.();
        const stop = (): void => {
          document.removeEventListener("pointerdown", resume, true);
          document.removeEventListener("keydown", resume, true);
          this.stopWaitingForGesture = undefined;
        };
        const resume = (): void => {
          void context.resume();
          stop();
        };
        document.addEventListener("pointerdown", resume, true);
        document.addEventListener("keydown", resume, true);
        this.stopWaitingForGesture = stop;
      });
    }
    return context;
  }

  private close(): void {
    const context = this.context;
    this.context = undefined;
    this.modules = new Map();
    this.stopWaitingForGesture?.();
    void context?.close().catch(() => undefined); // already closed: nothing to free
  }
}
