// The one table of preferences (keks-meet's set): type, default, range, whether the
// settings panel shows it. Parsing, validation, storage, the settings panel and the README all
// derive from this table. DOM-free.
//
// Unlike keks-meet, preferences may be set after the fragment (`#secret?rnnoise=false`): a link
// is how people share a setup. The few that a stranger's link must not set (`notFromLink`) are
// this browser's own state.

export type PrefType = "string" | "number" | "boolean";

interface PrefBase {
  readonly description: string;
  /** Optional prefs may be unset (no constraint applied); keks-meet's "optional" ones. */
  readonly optional?: boolean;
  /** Kept out of the settings panel (internal state). */
  readonly hidden?: boolean;
  /** Ignored (with a warning) when a link sets it: only this browser may. */
  readonly notFromLink?: boolean;
}

export interface StringPref extends PrefBase {
  readonly type: "string";
  readonly default: string | undefined;
  readonly values?: readonly string[];
  readonly maxLength?: number;
}

export interface NumberPref extends PrefBase {
  readonly type: "number";
  readonly default: number | undefined;
  readonly min?: number;
  readonly max?: number;
  readonly integer?: boolean;
}

export interface BooleanPref extends PrefBase {
  readonly type: "boolean";
  readonly default: boolean | undefined;
}

export type PrefDecl = StringPref | NumberPref | BooleanPref;

export const PREFS = {
  username: {
    type: "string",
    default: undefined,
    maxLength: 100,
    description: "Your name as others see it (a random guest name when empty)",
  },
  language: {
    type: "string",
    default: "system",
    values: ["system", "en", "en-US", "en-GB", "de", "de-DE", "ja", "ja-JP", "es", "es-ES"],
    description: "Interface language",
  },
  rnnoise: { type: "boolean", default: true, description: "Suppress background noise on your microphone (RNNoise)" },
  native_noise_suppression: {
    type: "boolean",
    default: false,
    description: "Use the browser's own noise suppression (when RNNoise is off)",
  },
  microphone_gain: { type: "number", default: 1, min: 0, max: 10, description: "Microphone volume multiplier" },
  video_fps: { type: "number", default: undefined, optional: true, min: 1, max: 120, description: "Preferred frame rate for camera and screen" },
  video_resolution: {
    type: "number",
    default: undefined,
    optional: true,
    min: 16,
    max: 7680,
    integer: true,
    description: "Preferred video width in pixels",
  },
  video_link_fit: {
    type: "boolean",
    default: true,
    description: "Fit the video you send to each receiver: no larger than they show it, no more than their connection carries",
  },
  camera_facing_mode: {
    type: "string",
    default: undefined,
    optional: true,
    values: ["environment", "user"],
    description: "Which camera to prefer on phones",
  },
  screencast_audio: { type: "boolean", default: false, description: "Share the audio of a screen or tab when the browser offers it" },
  auto_gain_control: { type: "boolean", default: undefined, optional: true, description: "Let the browser adjust your microphone level" },
  echo_cancellation: { type: "boolean", default: undefined, optional: true, description: "Cancel the echo of others' voices" },
  audio_activity_threshold: {
    type: "number",
    default: 0.003,
    optional: true,
    min: 0,
    max: 1,
    description: "Level (RMS) above which someone counts as speaking",
  },
  image_view_popup: { type: "boolean", default: true, description: "Open chat images in a pop-up window" },
  microphone_enabled: { type: "boolean", default: false, description: "Share your microphone when you join" },
  screencast_enabled: { type: "boolean", default: false, description: "Share your screen when you join" },
  camera_enabled: { type: "boolean", default: false, description: "Share your camera when you join" },
  send_previews: { type: "boolean", default: true, description: "Send small previews of your video to others" },
  preview_resolution: { type: "number", default: 256, min: 16, max: 512, integer: true, description: "Preview size in pixels" },
  preview_rate: { type: "number", default: 8, min: 1, max: 60, description: "Seconds between previews" },
  preview_encoding_quality: { type: "number", default: 80, min: 10, max: 100, integer: true, description: "Preview image quality (percent)" },
  optional_audio_default_enable: { type: "boolean", default: true, description: "Play others' audio without asking" },
  optional_video_default_enable: { type: "boolean", default: false, description: "Show others' video without asking" },
  notify_chat: { type: "boolean", default: true, description: "Notify about chat messages while the page is in the background" },
  notify_join: { type: "boolean", default: true, description: "Notify when someone joins" },
  notify_leave: { type: "boolean", default: true, description: "Notify when someone leaves" },
  enable_onbeforeunload: { type: "boolean", default: true, description: "Ask before leaving while you share something" },
  relay_only: {
    type: "boolean",
    default: false,
    description: "Send everything through the server's TURN relay, so the others never learn your IP address (needs TURN on the server)",
  },
  webrtc_debug: { type: "boolean", default: false, description: "Show connection details (candidates, codecs, bit rates)" },
  show_log: { type: "boolean", default: false, description: "Show the log on screen" },
  warn_redirect: { type: "boolean", default: false, hidden: true, description: "Set by the server's legacy /room/<secret> redirect" },
  // From a link it would make this browser watch (and, in the list, keep) rooms a stranger chose.
  room_watches: { type: "string", default: "[]", hidden: true, notFromLink: true, description: "Known rooms (JSON list of secrets)" },
} as const satisfies Record<string, PrefDecl>;

export type PrefKey = keyof typeof PREFS;

type ValueOf<D> = D extends { type: "string" } ? string : D extends { type: "number" } ? number : boolean;

/** The typed value of every preference; `undefined` means unset (optional prefs, username). */
export type PrefValues = { -readonly [K in PrefKey]: ValueOf<(typeof PREFS)[K]> | undefined };

export const PREF_KEYS = Object.keys(PREFS) as PrefKey[];

export function isPrefKey(key: string): key is PrefKey {
  return Object.prototype.hasOwnProperty.call(PREFS, key);
}

export function defaultPrefs(): PrefValues {
  const values = {} as Record<PrefKey, unknown>;
  for (const key of PREF_KEYS) values[key] = PREFS[key].default;
  return values as PrefValues;
}
