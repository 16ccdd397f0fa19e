// The start page: "New meeting" makes a 128-bit random secret; "Join" takes a meeting link or a
// name. The secret only ever goes into the URL fragment, which browsers never send to a server.

import { formatRoomFragment, randomRoomSecret } from "../../common/prefs/fragment.js";
import { joinTarget } from "./join-target.js";

function boot(): void {
  const newButton = document.getElementById("new-meeting");
  const form = document.getElementById("join-form");
  const input = document.getElementById("join-input");
  const error = document.getElementById("join-error");
  if (!(newButton instanceof HTMLButtonElement) || !(form instanceof HTMLFormElement) || !(input instanceof HTMLInputElement) || !error) {
    throw new Error("start page markup is missing an element");
  }
  newButton.addEventListener("click", () => {
    location.assign(`/room${formatRoomFragment(randomRoomSecret())}`);
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
    location.assign(target.url);
  });
  input.addEventListener("input", () => {
    error.textContent = "";
    input.removeAttribute("aria-invalid");
  });
}

boot();
