// The keyboard help dialog (`?`). A native modal <dialog>: the browser traps focus in it and
// closes it on Escape; we put focus back where it was when it opened.

import { LitElement, css, html } from "lit";
import { customElement, query } from "lit/decorators.js";
import { KEY_BINDINGS } from "../app/keybinds.js";

@customElement("mm-help")
export class HelpDialog extends LitElement {
  static override styles = css`
    dialog {
      max-width: min(34rem, calc(100vw - 2rem));
      border: none;
      border-radius: var(--radius, 10px);
      background: var(--surface-raised, #fff);
      color: var(--text, #1b1f24);
      padding: 1.25rem 1.5rem;
      box-shadow: 0 8px 32px rgb(0 0 0 / 0.3);
    }
    dialog::backdrop { background: rgb(0 0 0 / 0.45); }
    h2 { margin-top: 0; }
    table { border-collapse: collapse; width: 100%; }
    th, td { text-align: left; padding: 0.35rem 0.5rem; border-bottom: 1px solid color-mix(in srgb, var(--text-muted, #555) 30%, transparent); }
    kbd { font: inherit; font-family: ui-monospace, monospace; padding: 0.05rem 0.35rem; border: 1px solid var(--text-muted, #555); border-radius: 4px; }
    p { color: var(--text-muted, #4a5360); }
    button {
      font: inherit; min-height: 2.5rem; padding: 0.4rem 1rem; margin-top: 1rem; border-radius: var(--radius, 10px);
      border: 1px solid var(--text-muted, #555); background: var(--surface, #f7f8fa); color: inherit; cursor: pointer;
    }
    :focus-visible { outline: 3px solid var(--focus, #0b57d0); outline-offset: 2px; }
  `;

  @query("dialog") private dialog!: HTMLDialogElement;
  private returnFocus: HTMLElement | null = null;

  get isOpen(): boolean {
    return this.dialog?.open ?? false;
  }

  show(returnFocusTo: HTMLElement | null): void {
    this.returnFocus = returnFocusTo;
    if (!this.dialog.open) this.dialog.showModal();
  }

  close(): void {
    if (this.dialog.open) this.dialog.close();
  }

  private handleClose(): void {
    this.returnFocus?.focus();
    this.returnFocus = null;
  }

  override render() {
    return html`<dialog aria-labelledby="help-title" @close=${this.handleClose}>
      <h2 id="help-title">Keyboard shortcuts</h2>
      <table>
        <thead><tr><th scope="col">Keys</th><th scope="col">Action</th></tr></thead>
        <tbody>
          ${KEY_BINDINGS.map((b) => html`<tr><td><kbd>${b.keys}</kbd></td><td>${b.description}</td></tr>`)}
          <tr><td><kbd>Ctrl+V</kbd></td><td>Send an image from the clipboard to the chat</td></tr>
          <tr><td><kbd>←</kbd> <kbd>→</kbd></td><td>Move between the buttons of the control bar</td></tr>
          <tr><td><kbd>Escape</kbd></td><td>Close a dialog or side panel</td></tr>
        </tbody>
      </table>
      <p>Shortcuts do nothing while you type in a field, except Ctrl+Enter.</p>
      <form method="dialog"><button>Close</button></form>
    </dialog>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "mm-help": HelpDialog;
  }
}
