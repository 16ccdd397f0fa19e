// The keyboard map: keks-meet's bindings (with Shift, as its real client has them) plus
// `?` for help. One table drives both the handler and the help dialog. Keys are matched by
// `KeyboardEvent.code` (physical position, as keks-meet does) except `?`, which is matched by
// `key` because its position differs between layouts.

export type KeyAction =
  | "toggle-chat"
  | "add-microphone"
  | "add-screen"
  | "add-camera"
  | "share-files"
  | "stop-all"
  | "remove-oldest-chat"
  | "toggle-mute"
  | "toggle-jellyfin"
  | "push-to-talk"
  | "show-help";

export interface KeyBinding {
  readonly action: KeyAction;
  /** As shown in the help dialog. */
  readonly keys: string;
  readonly description: string;
  readonly matches: (event: KeyLike) => boolean;
}

export type KeyLike = Pick<KeyboardEvent, "code" | "key" | "shiftKey" | "ctrlKey" | "altKey" | "metaKey">;

const only = (event: KeyLike, mods: { shift?: boolean; ctrl?: boolean }) =>
  event.shiftKey === (mods.shift ?? false) && event.ctrlKey === (mods.ctrl ?? false) && !event.altKey && !event.metaKey;

export const KEY_BINDINGS: readonly KeyBinding[] = [
  { action: "toggle-chat", keys: "Ctrl+Enter", description: "Open or close the chat", matches: (e) => e.code === "Enter" && only(e, { ctrl: true }) },
  {
    action: "add-microphone",
    keys: "Shift+M (or Shift+R)",
    description: "Share your microphone",
    matches: (e) => (e.code === "KeyM" || e.code === "KeyR") && only(e, { shift: true }),
  },
  { action: "add-camera", keys: "Shift+C", description: "Share your camera", matches: (e) => e.code === "KeyC" && only(e, { shift: true }) },
  { action: "add-screen", keys: "Shift+S", description: "Share your screen", matches: (e) => e.code === "KeyS" && only(e, { shift: true }) },
  { action: "share-files", keys: "Shift+F", description: "Share files", matches: (e) => e.code === "KeyF" && only(e, { shift: true }) },
  {
    action: "stop-all",
    keys: "Ctrl+Shift+C",
    description: "Stop everything you share",
    matches: (e) => e.code === "KeyC" && only(e, { shift: true, ctrl: true }),
  },
  {
    action: "remove-oldest-chat",
    keys: "Shift+V",
    description: "Remove the oldest chat message from view",
    matches: (e) => e.code === "KeyV" && only(e, { shift: true }),
  },
  { action: "toggle-jellyfin", keys: "Shift+J", description: "Open or close the Jellyfin panel (watch together)", matches: (e) => e.code === "KeyJ" && only(e, { shift: true }) },
  { action: "toggle-mute", keys: "Shift+U", description: "Mute or unmute your microphone", matches: (e) => e.code === "KeyU" && only(e, { shift: true }) },
  {
    action: "push-to-talk",
    // Not Space alone: keyboard users nearly always have a button focused, which Space presses.
    keys: "Shift+Space (hold)",
    description: "Talk while held, with your microphone muted otherwise",
    matches: (e) => e.code === "Space" && only(e, { shift: true }),
  },
  { action: "show-help", keys: "?", description: "Show this list of keys", matches: (e) => e.key === "?" && !e.ctrlKey && !e.altKey && !e.metaKey },
];

/** Typing in a field (or a widget that uses keys itself) must never trigger a shortcut. */
export function isTypingTarget(target: EventTarget | null): boolean {
  if (!(target instanceof Element)) return false;
  if (target instanceof HTMLInputElement) return !["button", "submit", "reset", "checkbox", "radio", "range", "color", "file"].includes(target.type);
  if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  return target instanceof HTMLElement && target.isContentEditable;
}

/**
 * The action for a keydown, or undefined. Ctrl+Enter works while typing (it is how keks-meet
 * users leave the chat field); every other binding is ignored there and on auto-repeat.
 */
export function actionFor(event: KeyLike & { repeat: boolean }, target: EventTarget | null): KeyAction | undefined {
  if (event.repeat) return undefined;
  const binding = KEY_BINDINGS.find((b) => b.matches(event));
  if (!binding) return undefined;
  if (binding.action !== "toggle-chat" && isTypingTarget(target)) return undefined;
  return binding.action;
}

/** The element that really has focus, looking through shadow roots. */
export function deepActiveElement(root: Document | ShadowRoot = document): Element | null {
  let active = root.activeElement;
  while (active?.shadowRoot?.activeElement) active = active.shadowRoot.activeElement;
  return active;
}
