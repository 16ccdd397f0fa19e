// The start page: "New meeting" makes a 128-bit random secret; "Join" takes a meeting link or a
// name. The secret only ever goes into the URL fragment, which browsers never send to a server.

import "../trusted-types.js";
import { formatRoomFragment, randomRoomSecret } from "../../common/prefs/fragment.js";
import { PrefsStore } from "../prefs/prefs-store.js";
import { joinTarget } from "./join-target.js";

async function boot(): Promise<void> {
  const newButton = document.getElementById("new-meeting");
  const form = document.getElementById("join-form");
  const input = document.getElementById("join-input");
  const error = document.getElementById("join-error");
  const nameInput = document.getElementById("name-input");
  if (
    !(newButton instanceof HTMLButtonElement) ||
    !(form instanceof HTMLFormElement) ||
    !(input instanceof HTMLInputElement) ||
    !(nameInput instanceof HTMLInputElement) ||
    !error
  ) {
    throw new Error("start page markup is missing an element");
  }
  // The name is the same stored preference the room's settings panel edits.
  const prefs = await PrefsStore.load([]);
  nameInput.value = prefs.values.username ?? "";
  const saveName = async (): Promise<void> => {
    const name = nameInput.value.trim();
    if (name === (prefs.values.username ?? "")) return;
    if (name === "") await prefs.unset("username");
    else await prefs.set("username", name);
  };
  nameInput.addEventListener("change", () => void saveName());
  newButton.addEventListener("click", () => {
    void saveName().then(() => location.assign(`/room${formatRoomFragment(randomRoomSecret())}`));
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const target = joinTarget(input.value, location.origin);
    if ("error" in target) {
      error.textContent = target.error;
      input.setAttribute("aria-invalid", "true");
      input.focus();
      return;
    }
    void saveName().then(() => location.assign(target.url));
  });
  input.addEventListener("input", () => {
    error.textContent = "";
    input.removeAttribute("aria-invalid");
  });
}

boot().catch((failure: unknown) => {
  console.error("start page failed to start", failure);
});
