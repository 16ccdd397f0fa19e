/// <reference types="mocha" />
import { expect, fixture, html } from "@open-wc/testing";
import { emulateMedia, sendKeys, setViewport } from "@web/test-runner-commands";
import type { PrefSource, PrefWarning } from "../../common/prefs/resolve.js";
import { PREF_KEYS, PREFS, defaultPrefs, type PrefDecl, type PrefKey, type PrefValues } from "../../common/prefs/schema.js";
import "./mm-settings.js";
import type { PrefChangeEvent, SettingsPanel } from "./mm-settings.js";

const VISIBLE = PREF_KEYS.filter((key) => (PREFS[key] as PrefDecl).hidden !== true);
const HIDDEN = PREF_KEYS.filter((key) => (PREFS[key] as PrefDecl).hidden === true);

type Recorded = { type: string; key?: PrefKey; value?: unknown };

async function mount(props: {
  values?: Partial<PrefValues>;
  sources?: Partial<Record<PrefKey, PrefSource>>;
  warnings?: PrefWarning[];
  permission?: NotificationPermission | "unsupported";
} = {}): Promise<{ el: SettingsPanel; events: Recorded[] }> {
  const el = await fixture<SettingsPanel>(html`<mm-settings
    .values=${{ ...defaultPrefs(), ...props.values }}
    .sources=${props.sources ?? {}}
    .warnings=${props.warnings ?? []}
    .notificationPermission=${props.permission ?? "default"}
  ></mm-settings>`);
  const events: Recorded[] = [];
  el.addEventListener("pref-change", (e) => events.push({ type: e.type, key: e.key, value: e.value }));
  el.addEventListener("pref-unset", (e) => events.push({ type: e.type, key: e.key }));
  el.addEventListener("prefs-reset", (e) => events.push({ type: e.type }));
  el.addEventListener("notification-permission-request", (e) => events.push({ type: e.type }));
  return { el, events };
}

function $<T extends Element>(el: SettingsPanel, selector: string): T {
  const found = el.shadowRoot?.querySelector<T>(selector);
  if (!found) throw new Error(`no ${selector}`);
  return found;
}

function control<T extends HTMLInputElement | HTMLSelectElement = HTMLInputElement>(el: SettingsPanel, key: PrefKey): T {
  return $<T>(el, `[name="${key}"]`);
}

function buttonNamed(el: SettingsPanel, name: string): HTMLButtonElement | undefined {
  return [...(el.shadowRoot?.querySelectorAll("button") ?? [])].find((b) => b.textContent?.trim() === name);
}

function change(target: HTMLInputElement | HTMLSelectElement, value?: string): void {
  if (value !== undefined) target.value = value;
  target.dispatchEvent(new Event("change", { bubbles: true }));
}

function describedText(el: SettingsPanel, target: Element): string {
  const ids = (target.getAttribute("aria-describedby") ?? "").split(" ").filter(Boolean);
  return ids.map((id) => el.shadowRoot?.getElementById(id)?.textContent?.trim() ?? `<missing ${id}>`).join(" | ");
}

function loadAppStyles(): Promise<void> {
  if (document.querySelector("link[data-app-styles]")) return Promise.resolve();
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = "/assets/style.css";
  link.dataset["appStyles"] = "";
  const loaded = new Promise<void>((resolve, reject) => {
    link.onload = () => resolve();
    link.onerror = () => reject(new Error("assets/style.css did not load"));
  });
  document.head.append(link);
  return loaded;
}

describe("mm-settings", () => {
  before(loadAppStyles);
  afterEach(async () => {
    await emulateMedia({ colorScheme: "light" });
  });

  it("renders one labelled, described control for every visible pref, grouped, and none for hidden ones", async () => {
    const { el } = await mount();
    expect($(el, "h2").textContent?.trim()).to.equal("Settings");
    for (const key of VISIBLE) {
      const input = control(el, key);
      const label = [...(input.labels ?? [])].map((l) => l.textContent?.trim()).join(" ");
      expect(label, `label of ${key}`).to.not.equal("");
      expect(describedText(el, input), `help of ${key}`).to.contain(PREFS[key].description);
      expect(input.closest("fieldset")?.querySelector("legend")?.textContent, `group of ${key}`).to.be.a("string");
    }
    for (const key of HIDDEN) expect(el.shadowRoot?.querySelector(`[name="${key}"]`), key).to.equal(null);
    const legends = [...(el.shadowRoot?.querySelectorAll("legend") ?? [])].map((l) => l.textContent?.trim());
    expect(legends).to.deep.equal(["You", "Microphone", "Camera and screen", "Others' media", "Previews", "Notifications", "Privacy", "Advanced"]);
    expect(control(el, "rnnoise").type).to.equal("checkbox");
    expect(control(el, "language").tagName).to.equal("SELECT");
    expect(control(el, "username").type).to.equal("text");
    const gain = control(el, "microphone_gain");
    expect([gain.type, gain.min, gain.max, gain.step]).to.deep.equal(["number", "0", "10", "any"]);
    expect(control(el, "preview_resolution").step).to.equal("1");
  });

  it("shows current values", async () => {
    const { el } = await mount({ values: { rnnoise: false, language: "de", microphone_gain: 2.5, username: "Ana", echo_cancellation: false } });
    expect(control(el, "rnnoise").checked).to.equal(false);
    expect(control(el, "notify_chat").checked).to.equal(true);
    expect(control<HTMLSelectElement>(el, "language").value).to.equal("de");
    expect(control(el, "microphone_gain").value).to.equal("2.5");
    expect(control(el, "username").value).to.equal("Ana");
    expect(control<HTMLSelectElement>(el, "echo_cancellation").value).to.equal("false");
    expect(control<HTMLSelectElement>(el, "auto_gain_control").value).to.equal("");
  });

  it("sends typed values for checkboxes, selects and numbers", async () => {
    const { el, events } = await mount();
    control(el, "rnnoise").click();
    change(control<HTMLSelectElement>(el, "language"), "ja-JP");
    change(control<HTMLSelectElement>(el, "echo_cancellation"), "false");
    change(control<HTMLSelectElement>(el, "echo_cancellation"), "");
    change(control(el, "microphone_gain"), "2.5");
    change(control(el, "preview_resolution"), "128");
    change(control(el, "username"), "Bo");
    expect(events).to.deep.equal([
      { type: "pref-change", key: "rnnoise", value: false },
      { type: "pref-change", key: "language", value: "ja-JP" },
      { type: "pref-change", key: "echo_cancellation", value: false },
      { type: "pref-unset", key: "echo_cancellation" },
      { type: "pref-change", key: "microphone_gain", value: 2.5 },
      { type: "pref-change", key: "preview_resolution", value: 128 },
      { type: "pref-change", key: "username", value: "Bo" },
    ]);
  });

  it("sends events that leave the shadow root and carry their fields", async () => {
    const { el } = await mount();
    const outside = el.parentElement;
    if (!outside) throw new Error("fixture has no container");
    let seen: PrefChangeEvent | undefined;
    outside.addEventListener("pref-change", (e) => (seen = e));
    control(el, "show_log").click();
    expect(seen?.composed).to.equal(true);
    expect(seen?.bubbles).to.equal(true);
    expect([seen?.key, seen?.value]).to.deep.equal(["show_log", true]);
  });

  it("refuses an out-of-range or fractional number inline and sends nothing, then accepts the fix", async () => {
    const { el, events } = await mount();
    const input = control(el, "preview_resolution");
    change(input, "9000");
    await el.updateComplete;
    expect(events).to.deep.equal([]);
    expect(input.getAttribute("aria-invalid")).to.equal("true");
    const alert = $(el, '[role="alert"]');
    expect(alert.textContent?.trim()).to.equal("Enter a whole number from 16 to 512.");
    expect(describedText(el, input)).to.contain("Enter a whole number from 16 to 512.");
    expect(input.value, "the mistake stays to be fixed").to.equal("9000");

    change(input, "100.5");
    await el.updateComplete;
    expect(events).to.deep.equal([]);
    change(control(el, "microphone_gain"), "-1");
    await el.updateComplete;
    expect(events).to.deep.equal([]);
    expect(el.shadowRoot?.querySelectorAll('[role="alert"]')).to.have.length(2);

    change(input, "200");
    await el.updateComplete;
    expect(events).to.deep.equal([{ type: "pref-change", key: "preview_resolution", value: 200 }]);
    expect(input.getAttribute("aria-invalid")).to.equal("false");
    expect(input.value).to.equal("200");
  });

  it("refuses an empty value for a number that cannot be unset", async () => {
    const { el, events } = await mount();
    change(control(el, "preview_rate"), "");
    await el.updateComplete;
    expect(events).to.deep.equal([]);
    expect(control(el, "preview_rate").getAttribute("aria-invalid")).to.equal("true");
  });

  it("drops an inline error when the value changes from outside", async () => {
    const { el } = await mount();
    const input = control(el, "microphone_gain");
    change(input, "50");
    await el.updateComplete;
    el.values = { ...el.values, microphone_gain: 3 };
    await el.updateComplete;
    expect(input.value).to.equal("3");
    expect(input.getAttribute("aria-invalid")).to.equal("false");
    expect(el.shadowRoot?.querySelector('[role="alert"]')).to.equal(null);
  });

  it("sets and unsets optional numbers with their Set box", async () => {
    const { el, events } = await mount();
    const fps = control(el, "video_fps");
    const fpsSet = $<HTMLInputElement>(el, "#pref-video_fps-set");
    expect(fps.disabled).to.equal(true);
    expect(fpsSet.checked).to.equal(false);
    expect([...(fpsSet.labels ?? [])].map((l) => l.textContent?.replace(/\s+/g, " ").trim())).to.deep.equal(["Set frame rate"]);

    fpsSet.click();
    await el.updateComplete;
    expect(events, "no value to send yet").to.deep.equal([]);
    expect(fps.disabled).to.equal(false);
    change(fps, "30");
    expect(events).to.deep.equal([{ type: "pref-change", key: "video_fps", value: 30 }]);
    el.values = { ...el.values, video_fps: 30 };
    await el.updateComplete;
    fpsSet.click();
    expect(events.at(-1)).to.deep.equal({ type: "pref-unset", key: "video_fps" });

    // A pref with a default gets it back when ticked again.
    el.values = { ...el.values, audio_activity_threshold: undefined };
    await el.updateComplete;
    $<HTMLInputElement>(el, "#pref-audio_activity_threshold-set").click();
    expect(events.at(-1)).to.deep.equal({ type: "pref-change", key: "audio_activity_threshold", value: 0.003 });
  });

  it("unsets an optional number when its field is emptied", async () => {
    const { el, events } = await mount({ values: { video_resolution: 1280 } });
    change(control(el, "video_resolution"), "");
    expect(events).to.deep.equal([{ type: "pref-unset", key: "video_resolution" }]);
  });

  it("commits text on Enter and on leaving the field, not on every key", async () => {
    const { el, events } = await mount();
    const name = control(el, "username");
    name.focus();
    await sendKeys({ type: "Cy" });
    expect(events).to.deep.equal([]);
    await sendKeys({ press: "Enter" });
    expect(events).to.deep.equal([{ type: "pref-change", key: "username", value: "Cy" }]);
    await sendKeys({ type: "d" });
    control(el, "microphone_gain").focus();
    expect(events.at(-1)).to.deep.equal({ type: "pref-change", key: "username", value: "Cyd" });
  });

  it("asks for confirmation inside the panel before resetting", async () => {
    const { el, events } = await mount();
    buttonNamed(el, "Reset all settings")?.click();
    await el.updateComplete;
    expect(events).to.deep.equal([]);
    expect(el.shadowRoot?.activeElement?.textContent?.trim()).to.equal("Cancel");
    expect($(el, '[role="group"]').getAttribute("aria-labelledby")).to.equal("reset-question");
    await expect(el).to.be.accessible();

    buttonNamed(el, "Cancel")?.click();
    await el.updateComplete;
    expect(events).to.deep.equal([]);
    expect(el.shadowRoot?.activeElement?.textContent?.trim()).to.equal("Reset all settings");

    buttonNamed(el, "Reset all settings")?.click();
    await el.updateComplete;
    let escapedToPage = false;
    const pageListener = () => (escapedToPage = true);
    document.addEventListener("keydown", pageListener);
    await sendKeys({ press: "Escape" });
    document.removeEventListener("keydown", pageListener);
    await el.updateComplete;
    expect(escapedToPage, "Escape closes the question, not the panel").to.equal(false);
    expect(buttonNamed(el, "Yes, reset")).to.equal(undefined);

    buttonNamed(el, "Reset all settings")?.click();
    await el.updateComplete;
    buttonNamed(el, "Yes, reset")?.click();
    await el.updateComplete;
    expect(events).to.deep.equal([{ type: "prefs-reset" }]);
    expect(buttonNamed(el, "Reset all settings")).to.not.equal(undefined);
  });

  it("lists warnings in a status region and marks values that came from the link", async () => {
    const warnings: PrefWarning[] = [
      { key: "colour", code: "unknown_key", message: "The link sets “colour”, which is not a setting; it was ignored." },
      { key: "preview_rate", code: "bad_value", message: "“preview_rate” must be a number, not “fast”." },
    ];
    const { el } = await mount({ warnings, sources: { username: "url", rnnoise: "stored" }, values: { username: "ana" } });
    const status = $(el, '[role="status"]');
    const items = [...status.querySelectorAll("li")].map((li) => li.textContent?.trim());
    expect(items).to.deep.equal(warnings.map((w) => w.message));
    expect(describedText(el, control(el, "username"))).to.contain("From the link, for this visit only");
    expect(describedText(el, control(el, "rnnoise"))).to.not.contain("From the link");
    await expect(el).to.be.accessible();

    const empty = await mount();
    expect($(empty.el, '[role="status"]').textContent?.trim()).to.equal("");
  });

  it("offers to allow notifications only while the browser has not asked", async () => {
    const { el, events } = await mount({ permission: "default" });
    buttonNamed(el, "Allow notifications")?.click();
    expect(events).to.deep.equal([{ type: "notification-permission-request" }]);
    for (const permission of ["granted", "denied", "unsupported"] as const) {
      const other = await mount({ permission });
      expect(buttonNamed(other.el, "Allow notifications"), permission).to.equal(undefined);
    }
  });

  it("passes axe, light and dark, with an inline error showing", async () => {
    const { el } = await mount({ sources: { notify_chat: "url" } });
    change(control(el, "microphone_gain"), "99");
    await el.updateComplete;
    await expect(el).to.be.accessible();
    await emulateMedia({ colorScheme: "dark" });
    expect(getComputedStyle(el).getPropertyValue("--surface").trim(), "the app's dark tokens apply").to.equal("#101418");
    await expect(el).to.be.accessible();
  });

  it("fits a 320 px wide screen without horizontal scrolling", async () => {
    await setViewport({ width: 320, height: 640 });
    try {
      const { el } = await mount({
        warnings: [{ key: "x".repeat(40), code: "unknown_key", message: `The link sets “${"x".repeat(40)}”, which is not a setting; it was ignored.` }],
      });
      buttonNamed(el, "Reset all settings")?.click();
      await el.updateComplete;
      expect(document.documentElement.scrollWidth).to.be.at.most(320);
      for (const target of el.shadowRoot?.querySelectorAll("input, select, button") ?? []) {
        const box = target.getBoundingClientRect();
        expect(box.right, target.outerHTML.slice(0, 80)).to.be.at.most(320);
        expect(Math.min(box.width, box.height), `target size of ${target.outerHTML.slice(0, 60)}`).to.be.at.least(24);
      }
    } finally {
      await setViewport({ width: 800, height: 600 });
    }
  });
});
