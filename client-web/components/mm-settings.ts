// The settings panel: one form control per visible preference, generated from the schema
// (common/prefs/schema.ts) and grouped below. Properties in (values, where they came from,
// warnings, notification permission), events out; it never stores anything itself.
// Numbers and text are checked with the same parser as link values and only sent when valid.

import { LitElement, css, html, nothing, type PropertyValues, type TemplateResult } from "lit";
import { customElement, property, state } from "lit/decorators.js";
import { live } from "lit/directives/live.js";
import { parsePrefText, type PrefSource, type PrefWarning } from "../../common/prefs/resolve.js";
import { PREFS, defaultPrefs, type NumberPref, type PrefDecl, type PrefKey, type PrefValues, type StringPref } from "../../common/prefs/schema.js";

/** A pref's value when set. */
export type PrefValue = NonNullable<PrefValues[PrefKey]>;

/** The user chose a valid value for `key`. */
export class PrefChangeEvent extends Event {
  constructor(
    readonly key: PrefKey,
    readonly value: PrefValue,
  ) {
    super("pref-change", { bubbles: true, composed: true });
  }
}

/** The user asked for no value (optional prefs only: the browser or app decides). */
export class PrefUnsetEvent extends Event {
  constructor(readonly key: PrefKey) {
    super("pref-unset", { bubbles: true, composed: true });
  }
}

/** The user confirmed "Reset all settings". */
export class PrefsResetEvent extends Event {
  constructor() {
    super("prefs-reset", { bubbles: true, composed: true });
  }
}

/** The user pressed "Allow notifications"; the app calls Notification.requestPermission(). */
export class NotificationPermissionRequestEvent extends Event {
  constructor() {
    super("notification-permission-request", { bubbles: true, composed: true });
  }
}

type Decl<K extends PrefKey> = (typeof PREFS)[K];
type VisibleKey = { [K in PrefKey]: Decl<K> extends { readonly hidden: true } ? never : K }[PrefKey];
type OptionalKey = { [K in VisibleKey]: Decl<K> extends { readonly optional: true } ? K : never }[VisibleKey];

const GROUPS = [
  { legend: "You", keys: ["username", "language"] },
  {
    legend: "Microphone",
    keys: ["microphone_enabled", "rnnoise", "native_noise_suppression", "echo_cancellation", "auto_gain_control", "microphone_gain", "audio_activity_threshold"],
  },
  { legend: "Camera and screen", keys: ["camera_enabled", "camera_facing_mode", "screencast_enabled", "screencast_audio", "video_resolution", "video_fps", "video_link_fit"] },
  { legend: "Others' media", keys: ["optional_audio_default_enable", "optional_video_default_enable", "image_view_popup"] },
  { legend: "Previews", keys: ["send_previews", "preview_resolution", "preview_rate", "preview_encoding_quality"] },
  { legend: "Notifications", keys: ["notify_chat", "notify_join", "notify_leave"] },
  { legend: "Privacy", keys: ["relay_only"] },
  { legend: "Advanced", keys: ["enable_onbeforeunload", "webrtc_debug", "show_log"] },
] as const satisfies ReadonlyArray<{ legend: string; keys: readonly VisibleKey[] }>;

// A pref added to the schema without a group fails to compile here, naming the key.
type Ungrouped = Exclude<VisibleKey, (typeof GROUPS)[number]["keys"][number]>;
const EVERY_PREF_GROUPED: [Ungrouped] extends [never] ? true : Ungrouped = true;
void EVERY_PREF_GROUPED;

/** Short names for the labels; the schema's descriptions become the help text. */
const LABELS: Record<VisibleKey, string> = {
  username: "Name",
  language: "Language",
  rnnoise: "Noise suppression (RNNoise)",
  native_noise_suppression: "Browser noise suppression",
  microphone_gain: "Microphone gain",
  video_fps: "Frame rate",
  video_resolution: "Video width",
  video_link_fit: "Fit video to each receiver",
  camera_facing_mode: "Camera direction",
  screencast_audio: "Share screen audio",
  auto_gain_control: "Automatic gain control",
  echo_cancellation: "Echo cancellation",
  audio_activity_threshold: "Speaking threshold",
  image_view_popup: "Images in a pop-up",
  microphone_enabled: "Microphone on join",
  screencast_enabled: "Screen on join",
  camera_enabled: "Camera on join",
  send_previews: "Send previews",
  preview_resolution: "Preview size",
  preview_rate: "Preview interval",
  preview_encoding_quality: "Preview quality",
  optional_audio_default_enable: "Play audio automatically",
  optional_video_default_enable: "Show video automatically",
  notify_chat: "Chat messages",
  notify_join: "Someone joins",
  notify_leave: "Someone leaves",
  enable_onbeforeunload: "Confirm leaving",
  webrtc_debug: "Connection details",
  relay_only: "Relay only (hide my IP address)",
  show_log: "Show log",
};

/** What "no value" means, shown as the choice (or placeholder) for unset optional prefs. */
const UNSET_TEXT: Record<OptionalKey, string> = {
  video_fps: "Automatic",
  video_resolution: "Automatic",
  camera_facing_mode: "Browser default",
  auto_gain_control: "Browser default",
  echo_cancellation: "Browser default",
  audio_activity_threshold: "Off",
};

/** Names of choices; languages in their own language, as people look for their own. */
const CHOICE_TEXT: Record<string, { text: string; lang?: string }> = {
  system: { text: "Same as the browser" },
  en: { text: "English", lang: "en" },
  "en-US": { text: "English (US)", lang: "en" },
  "en-GB": { text: "English (UK)", lang: "en" },
  de: { text: "Deutsch", lang: "de" },
  "de-DE": { text: "Deutsch (Deutschland)", lang: "de" },
  ja: { text: "日本語", lang: "ja" },
  "ja-JP": { text: "日本語（日本）", lang: "ja" },
  es: { text: "Español", lang: "es" },
  "es-ES": { text: "Español (España)", lang: "es" },
  environment: { text: "Back camera" },
  user: { text: "Front camera" },
};

function isOptional(key: VisibleKey): key is OptionalKey {
  return Object.prototype.hasOwnProperty.call(UNSET_TEXT, key);
}

function format(value: PrefValues[PrefKey]): string {
  return value === undefined ? "" : String(value);
}

/** The inline error for a number that did not parse or is out of range. */
function numberHint(decl: NumberPref): string {
  const kind = decl.integer === true ? "a whole number" : "a number";
  if (decl.min !== undefined && decl.max !== undefined) return `Enter ${kind} from ${decl.min} to ${decl.max}.`;
  return `Enter ${kind}.`;
}

@customElement("mm-settings")
export class SettingsPanel extends LitElement {
  static override styles = css`
    :host { display: block; color: var(--text, #1b1f24); color-scheme: light dark; }
    *, *::before, *::after { box-sizing: border-box; }
    h2 { font-size: 1.25rem; margin: 0 0 0.75rem; }
    form { display: grid; gap: 1rem; }
    fieldset {
      margin: 0; min-width: 0; padding: 0.25rem 1rem 0.5rem;
      border: 1px solid color-mix(in srgb, var(--text-muted, #4a5360) 35%, transparent); border-radius: var(--radius, 10px);
    }
    legend { font-weight: 600; padding: 0 0.4rem; }
    .row { padding: 0.65rem 0; }
    .row + .row { border-top: 1px solid color-mix(in srgb, var(--text-muted, #4a5360) 20%, transparent); }
    .check { display: grid; grid-template-columns: auto 1fr; column-gap: 0.75rem; align-items: start; }
    label { display: block; font-weight: 500; overflow-wrap: anywhere; }
    .check label { padding-top: 0.05rem; cursor: pointer; }
    .help, .note { margin: 0.1rem 0 0; font-size: 0.875rem; color: var(--text-muted, #4a5360); overflow-wrap: anywhere; }
    .source {
      display: inline-block; margin: 0.35rem 0 0; padding: 0 0.55rem; font-size: 0.8rem;
      border: 1px solid var(--accent-soft, #98c1d9); border-radius: 999px;
    }
    .control { display: flex; flex-wrap: wrap; align-items: center; gap: 0.5rem 0.9rem; margin-top: 0.45rem; }
    .set { display: flex; align-items: center; gap: 0.4rem; }
    .set label { font-weight: 400; }
    input[type="checkbox"] { width: 1.5rem; height: 1.5rem; margin: 0; accent-color: var(--accent, #3d5a80); cursor: pointer; }
    input[type="text"], input[type="number"], select {
      font: inherit; min-height: 2.5rem; max-width: 100%; padding: 0.3rem 0.6rem; color: inherit;
      background: var(--surface, #f7f8fa); border: 1px solid var(--text-muted, #4a5360); border-radius: calc(var(--radius, 10px) * 0.7);
    }
    input[type="text"] { width: 100%; }
    input[type="number"] { width: 10rem; }
    input:disabled { opacity: 0.6; }
    input[aria-invalid="true"] { border: 2px solid var(--danger, #b3261e); }
    .error { margin: 0.35rem 0 0; font-size: 0.875rem; color: var(--danger, #b3261e); }
    button {
      font: inherit; min-height: 2.5rem; padding: 0.35rem 1rem; border-radius: var(--radius, 10px); cursor: pointer;
      border: 1px solid var(--text-muted, #4a5360); background: var(--surface, #f7f8fa); color: var(--text, #1b1f24);
    }
    button.primary { background: var(--accent, #3d5a80); border-color: var(--accent, #3d5a80); color: #fff; }
    button.danger { background: var(--danger, #b3261e); border-color: var(--danger, #b3261e); color: var(--surface-raised, #fff); }
    :focus-visible { outline: 3px solid var(--focus, #0b57d0); outline-offset: 2px; }
    .warnings { margin: 0; padding: 0.5rem 0.75rem; border: 1px solid var(--text-muted, #4a5360); border-left: 4px solid var(--danger, #b3261e); border-radius: var(--radius, 10px); }
    .warnings p { margin: 0; font-weight: 500; }
    .warnings ul { margin: 0.3rem 0 0; padding-left: 1.2rem; overflow-wrap: anywhere; }
    .permission { padding: 0.65rem 0; display: flex; flex-wrap: wrap; align-items: center; gap: 0.5rem 1rem; }
    .permission + .row { border-top: 1px solid color-mix(in srgb, var(--text-muted, #4a5360) 20%, transparent); }
    .permission p { margin: 0; flex: 1 1 12rem; }
    .reset { margin-top: 1rem; }
    .reset p { margin: 0 0 0.5rem; }
    .buttons { display: flex; flex-wrap: wrap; gap: 0.5rem; }
    .visually-hidden {
      position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; overflow: hidden;
      clip: rect(0 0 0 0); white-space: nowrap; border: 0;
    }
  `;

  @property({ attribute: false }) values: Readonly<PrefValues> = defaultPrefs();
  @property({ attribute: false }) sources: Readonly<Partial<Record<PrefKey, PrefSource>>> = {};
  @property({ attribute: false }) warnings: readonly PrefWarning[] = [];
  @property({ attribute: false }) notificationPermission: NotificationPermission | "unsupported" = "unsupported";

  /** Inline errors of number/text fields whose text was not sent. */
  @state() private errors: ReadonlyMap<PrefKey, string> = new Map();
  /**
   * Text the user committed (sent or refused) that `values` does not show yet; kept until the
   * value changes, so a re-render neither wipes a mistake the user is fixing nor flashes the old value.
   */
  @state() private drafts: ReadonlyMap<PrefKey, string> = new Map();
  /** Optional number prefs whose "Set" box is ticked while no value has been entered yet. */
  @state() private enabling: ReadonlySet<PrefKey> = new Set();
  @state() private confirmingReset = false;
  /** Element to focus after the next render: the reset question's buttons come and go. */
  private focusAfterRender: string | undefined;

  protected override willUpdate(changed: PropertyValues<this>): void {
    const before = changed.get("values") as Readonly<PrefValues> | undefined;
    if (!before) return;
    const moved = (key: PrefKey) => !Object.is(before[key], this.values[key]);
    this.errors = new Map([...this.errors].filter(([key]) => !moved(key)));
    this.drafts = new Map([...this.drafts].filter(([key]) => !moved(key)));
    this.enabling = new Set([...this.enabling].filter((key) => this.values[key] === undefined));
  }

  protected override updated(): void {
    if (this.focusAfterRender === undefined) return;
    this.renderRoot.querySelector<HTMLElement>(this.focusAfterRender)?.focus();
    this.focusAfterRender = undefined;
  }

  override render(): TemplateResult {
    return html`
      <h2 id="settings-title">Settings</h2>
      <div role="status">${this.renderWarnings()}</div>
      <form aria-labelledby="settings-title" novalidate @submit=${(e: Event) => e.preventDefault()}>
        ${GROUPS.map(
          (group) => html`<fieldset>
            <legend>${group.legend}</legend>
            ${group.legend === "Notifications" ? this.renderPermission() : nothing}
            ${group.keys.map((key) => this.renderPref(key))}
          </fieldset>`,
        )}
      </form>
      <div class="reset">${this.renderReset()}</div>
    `;
  }

  private renderWarnings(): TemplateResult | typeof nothing {
    if (this.warnings.length === 0) return nothing;
    return html`<div class="warnings">
      <p>Some settings could not be used:</p>
      <ul>
        ${this.warnings.map((w) => html`<li>${w.message}</li>`)}
      </ul>
    </div>`;
  }

  private renderPermission(): TemplateResult {
    switch (this.notificationPermission) {
      case "default":
        return html`<div class="permission">
          <p class="note">The browser will only show notifications once you allow them.</p>
          <button type="button" class="primary" @click=${() => this.dispatchEvent(new NotificationPermissionRequestEvent())}>
            Allow notifications
          </button>
        </div>`;
      case "granted":
        return html`<div class="permission"><p class="note">Notifications are allowed.</p></div>`;
      case "denied":
        return html`<div class="permission">
          <p class="note">Notifications are blocked for this site. You can allow them in the browser's site settings.</p>
        </div>`;
      case "unsupported":
        return html`<div class="permission"><p class="note">This browser cannot show notifications.</p></div>`;
    }
  }

  private renderPref(key: VisibleKey): TemplateResult {
    const decl: PrefDecl = PREFS[key];
    if (decl.type === "boolean" && !isOptional(key)) return this.renderCheckbox(key);
    if (decl.type === "boolean" || (decl.type === "string" && decl.values !== undefined)) return this.renderSelect(key, decl);
    if (decl.type === "number") return this.renderNumber(key, decl);
    return this.renderText(key, decl);
  }

  private renderCheckbox(key: VisibleKey): TemplateResult {
    return html`<div class="row check">
      <input
        type="checkbox"
        id=${`pref-${key}`}
        name=${key}
        .checked=${live(this.values[key] === true)}
        aria-describedby=${this.describedBy(key)}
        @change=${(e: Event) => this.emitChange(key, (e.target as HTMLInputElement).checked)}
      />
      <div>
        <label for=${`pref-${key}`}>${LABELS[key]}</label>
        ${this.renderHelp(key)}
      </div>
    </div>`;
  }

  /** Fixed choices; an optional pref gets a first choice meaning "no value". Booleans map to On/Off. */
  private renderSelect(key: VisibleKey, decl: PrefDecl): TemplateResult {
    const current = format(this.values[key]);
    const choices: Array<{ value: string; text: string; lang?: string | undefined }> =
      decl.type === "boolean"
        ? [{ value: "true", text: "On" }, { value: "false", text: "Off" }]
        : ((decl as StringPref).values ?? []).map((value) => ({ value, ...(CHOICE_TEXT[value] ?? { text: value }) }));
    if (isOptional(key)) choices.unshift({ value: "", text: UNSET_TEXT[key] });
    return html`<div class="row">
      <label for=${`pref-${key}`}>${LABELS[key]}</label>
      ${this.renderHelp(key)}
      <div class="control">
        <select id=${`pref-${key}`} name=${key} aria-describedby=${this.describedBy(key)} @change=${(e: Event) => this.commitChoice(key, decl, e)}>
          ${choices.map((c) => html`<option value=${c.value} lang=${c.lang ?? nothing} .selected=${live(c.value === current)}>${c.text}</option>`)}
        </select>
      </div>
    </div>`;
  }

  private renderNumber(key: VisibleKey, decl: NumberPref): TemplateResult {
    const optional = isOptional(key);
    const enabled = !optional || this.values[key] !== undefined || this.enabling.has(key);
    const error = this.errors.get(key);
    return html`<div class="row">
      <label for=${`pref-${key}`}>${LABELS[key]}</label>
      ${this.renderHelp(key)}
      <div class="control">
        ${optional
          ? html`<span class="set">
              <input type="checkbox" id=${`pref-${key}-set`} .checked=${live(enabled)} @change=${(e: Event) => this.toggleSet(key, decl, e)} />
              <label for=${`pref-${key}-set`}>Set<span class="visually-hidden"> ${LABELS[key].toLowerCase()}</span></label>
            </span>`
          : nothing}
        <input
          type="number"
          id=${`pref-${key}`}
          name=${key}
          inputmode="decimal"
          min=${decl.min ?? nothing}
          max=${decl.max ?? nothing}
          step=${decl.integer === true ? "1" : "any"}
          placeholder=${isOptional(key) && !enabled ? UNSET_TEXT[key] : nothing}
          ?disabled=${!enabled}
          .value=${live(this.drafts.get(key) ?? format(this.values[key]))}
          aria-invalid=${error === undefined ? "false" : "true"}
          aria-describedby=${this.describedBy(key)}
          @change=${(e: Event) => this.commitNumber(key, decl, e.target as HTMLInputElement)}
        />
      </div>
      ${this.renderError(key)}
    </div>`;
  }

  private renderText(key: VisibleKey, decl: StringPref): TemplateResult {
    const error = this.errors.get(key);
    return html`<div class="row">
      <label for=${`pref-${key}`}>${LABELS[key]}</label>
      ${this.renderHelp(key)}
      <div class="control">
        <input
          type="text"
          id=${`pref-${key}`}
          name=${key}
          maxlength=${decl.maxLength ?? nothing}
          autocomplete=${key === "username" ? "nickname" : "off"}
          spellcheck="false"
          .value=${live(this.drafts.get(key) ?? format(this.values[key]))}
          aria-invalid=${error === undefined ? "false" : "true"}
          aria-describedby=${this.describedBy(key)}
          @change=${(e: Event) => this.commitText(key, e.target as HTMLInputElement)}
        />
      </div>
      ${this.renderError(key)}
    </div>`;
  }

  private renderHelp(key: VisibleKey): TemplateResult {
    const fromLink = this.sources[key] === "url";
    return html`<p class="help" id=${`pref-${key}-help`}>${PREFS[key].description}</p>
      ${fromLink ? html`<p class="source" id=${`pref-${key}-source`}>From the link, for this visit only</p>` : nothing}`;
  }

  private renderError(key: VisibleKey): TemplateResult | typeof nothing {
    const error = this.errors.get(key);
    return error === undefined ? nothing : html`<p class="error" id=${`pref-${key}-error`} role="alert">${error}</p>`;
  }

  private describedBy(key: VisibleKey): string {
    const ids = [`pref-${key}-help`];
    if (this.sources[key] === "url") ids.push(`pref-${key}-source`);
    if (this.errors.has(key)) ids.push(`pref-${key}-error`);
    return ids.join(" ");
  }

  private renderReset(): TemplateResult {
    if (!this.confirmingReset) {
      return html`<button type="button" id="reset" @click=${() => this.askReset()}>Reset all settings</button>`;
    }
    const keepsLinkValues = Object.values(this.sources).includes("url");
    return html`<div role="group" aria-labelledby="reset-question" @keydown=${(e: KeyboardEvent) => this.handleResetKey(e)}>
      <p id="reset-question">
        Reset all settings to their defaults?${keepsLinkValues ? " Settings from the link stay for this visit." : ""}
      </p>
      <div class="buttons">
        <button type="button" class="danger" id="reset-yes" @click=${() => this.confirmReset()}>Yes, reset</button>
        <button type="button" id="reset-cancel" @click=${() => this.endReset()}>Cancel</button>
      </div>
    </div>`;
  }

  // ---- user input → events --------------------------------------------------------------------

  private emitChange(key: PrefKey, value: PrefValue): void {
    this.dispatchEvent(new PrefChangeEvent(key, value));
  }

  private commitChoice(key: VisibleKey, decl: PrefDecl, event: Event): void {
    const text = (event.target as HTMLSelectElement).value;
    if (text === "") this.dispatchEvent(new PrefUnsetEvent(key));
    else this.emitChange(key, decl.type === "boolean" ? text === "true" : text);
  }

  private commitNumber(key: VisibleKey, decl: NumberPref, input: HTMLInputElement): void {
    // A number field reports unparsable text ("1e", "--") as an empty value plus badInput.
    const parsed = input.validity.badInput ? undefined : parsePrefText(key, input.value.trim());
    if (!parsed?.ok) {
      this.setDraft(key, input.value, numberHint(decl));
      return;
    }
    this.setDraft(key, input.value, undefined);
    if (parsed.value === undefined) {
      this.enabling = new Set([...this.enabling].filter((k) => k !== key));
      if (this.values[key] !== undefined) this.dispatchEvent(new PrefUnsetEvent(key));
    } else if (!Object.is(parsed.value, this.values[key])) {
      this.emitChange(key, parsed.value);
    }
  }

  private commitText(key: VisibleKey, input: HTMLInputElement): void {
    const parsed = parsePrefText(key, input.value);
    if (!parsed.ok) {
      const max = (PREFS[key] as StringPref).maxLength;
      this.setDraft(key, input.value, max === undefined ? parsed.error.message : `Use at most ${max} characters.`);
      return;
    }
    this.setDraft(key, input.value, undefined);
    if (parsed.value !== undefined && parsed.value !== this.values[key]) this.emitChange(key, parsed.value);
  }

  private toggleSet(key: VisibleKey, decl: NumberPref, event: Event): void {
    const checked = (event.target as HTMLInputElement).checked;
    this.errors = new Map([...this.errors].filter(([k]) => k !== key));
    this.drafts = new Map([...this.drafts].filter(([k]) => k !== key));
    if (!checked) {
      this.enabling = new Set([...this.enabling].filter((k) => k !== key));
      if (this.values[key] !== undefined) this.dispatchEvent(new PrefUnsetEvent(key));
      return;
    }
    if (decl.default !== undefined) {
      this.emitChange(key, decl.default);
      return;
    }
    // No value to suggest: enable the field (next in tab order) and let the user type one; it is
    // sent on change. Focus stays on the box: moving it on a tick would surprise (WCAG 3.2.2).
    this.enabling = new Set([...this.enabling, key]);
  }

  private setDraft(key: PrefKey, text: string, error: string | undefined): void {
    this.drafts = new Map([...this.drafts, [key, text]]);
    const errors = new Map(this.errors);
    if (error === undefined) errors.delete(key);
    else errors.set(key, error);
    this.errors = errors;
  }

  private askReset(): void {
    this.confirmingReset = true;
    // Cancel first: an accidental second Enter must not wipe everything.
    this.focusAfterRender = "#reset-cancel";
  }

  private confirmReset(): void {
    this.errors = new Map();
    this.drafts = new Map();
    this.enabling = new Set();
    this.endReset();
    this.dispatchEvent(new PrefsResetEvent());
  }

  private endReset(): void {
    this.confirmingReset = false;
    this.focusAfterRender = "#reset";
  }

  private handleResetKey(event: KeyboardEvent): void {
    if (event.key !== "Escape") return;
    // Escape cancels the question only; the app would otherwise take it to close the whole panel.
    event.stopPropagation();
    this.endReset();
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "mm-settings": SettingsPanel;
  }
  interface HTMLElementEventMap {
    "pref-change": PrefChangeEvent;
    "pref-unset": PrefUnsetEvent;
    "prefs-reset": PrefsResetEvent;
    "notification-permission-request": NotificationPermissionRequestEvent;
  }
}
