/// <reference types="mocha" />
import { expect } from "@open-wc/testing";
import { actionFor, isTypingTarget, KEY_BINDINGS } from "./keybinds.js";

function key(code: string, mods: { shift?: boolean; ctrl?: boolean } = {}, keyValue = "", repeat = false) {
  return { code, key: keyValue, shiftKey: mods.shift ?? false, ctrlKey: mods.ctrl ?? false, altKey: false, metaKey: false, repeat };
}

describe("keybinds", () => {
  const body = document.body;

  it("maps keks-meet's keys (with Shift, as the real client has them)", () => {
    expect(actionFor(key("KeyM", { shift: true }), body)).to.equal("add-microphone");
    expect(actionFor(key("KeyR", { shift: true }), body)).to.equal("add-microphone");
    expect(actionFor(key("KeyC", { shift: true }), body)).to.equal("add-camera");
    expect(actionFor(key("KeyS", { shift: true }), body)).to.equal("add-screen");
    expect(actionFor(key("KeyC", { shift: true, ctrl: true }), body)).to.equal("stop-all");
    expect(actionFor(key("Enter", { ctrl: true }), body)).to.equal("toggle-chat");
    expect(actionFor(key("KeyV", { shift: true }), body)).to.equal("remove-oldest-chat");
    expect(actionFor(key("Slash", { shift: true }, "?"), body)).to.equal("show-help");
  });

  it("ignores plain letters, auto-repeat and unknown keys", () => {
    expect(actionFor(key("KeyM"), body)).to.equal(undefined);
    expect(actionFor(key("KeyC", { ctrl: true }), body)).to.equal(undefined);
    expect(actionFor(key("KeyM", { shift: true }, "", true), body)).to.equal(undefined);
    expect(actionFor(key("KeyQ", { shift: true }), body)).to.equal(undefined);
  });

  it("never fires while typing, except Ctrl+Enter", () => {
    const input = document.createElement("input");
    const textarea = document.createElement("textarea");
    const checkbox = Object.assign(document.createElement("input"), { type: "checkbox" });
    expect(isTypingTarget(input)).to.equal(true);
    expect(isTypingTarget(textarea)).to.equal(true);
    expect(isTypingTarget(checkbox)).to.equal(false);
    expect(actionFor(key("KeyM", { shift: true }), input)).to.equal(undefined);
    expect(actionFor(key("Slash", { shift: true }, "?"), textarea)).to.equal(undefined);
    expect(actionFor(key("Enter", { ctrl: true }), input)).to.equal("toggle-chat");
    expect(actionFor(key("KeyM", { shift: true }), checkbox)).to.equal("add-microphone");
  });

  it("has one description per action for the help dialog", () => {
    const actions = KEY_BINDINGS.map((b) => b.action);
    expect(new Set(actions).size).to.equal(actions.length);
    for (const b of KEY_BINDINGS) expect(b.description.length).to.be.greaterThan(5);
  });
});
