// The pages are served with `require-trusted-types-for 'script'`: a string can no longer become
// script by way of a DOM sink (innerHTML, script.src, new Worker(url), serviceWorker.register…)
// unless a Trusted Types policy vouches for it. lit vouches for its own templates; this default
// policy covers our few script URLs (the hashing worker, the download service worker, the
// RNNoise worklet), which are all our own files: same origin, or a blob: this page made. Markup
// and script from strings are refused outright — nothing of ours needs them, so anything that
// tries is a bug or an injection. Imported first by each page's entry script, before any sink.

interface TrustedTypePolicyFactoryLike {
  readonly defaultPolicy: unknown;
  createPolicy(name: string, rules: { createScriptURL?: (input: string) => string; createHTML?: (input: string) => string; createScript?: (input: string) => string }): unknown;
}

/** Whether `input` names a script of this page's own origin (or a blob: URL this origin made). */
export function isOwnScriptUrl(input: string, base: string): boolean {
  let url: URL;
  try {
    url = new URL(input, base);
  } catch {
    return false;
  }
  const origin = new URL(base).origin;
  if (url.protocol === "blob:") return url.pathname.startsWith(`${origin}/`);
  return url.origin === origin;
}

function installDefaultPolicy(): void {
  const factory = (globalThis as { trustedTypes?: TrustedTypePolicyFactoryLike }).trustedTypes;
  if (!factory || factory.defaultPolicy) return; // a browser without Trusted Types, or installed already
  factory.createPolicy("default", {
    createScriptURL(input) {
      if (isOwnScriptUrl(input, location.href)) return input;
      throw new TypeError(`refused to load script from ${input}: not this site's own`);
    },
    createHTML() {
      throw new TypeError("refused to turn a string into markup");
    },
    createScript() {
      throw new TypeError("refused to turn a string into script");
    },
  });
}

installDefaultPolicy();
