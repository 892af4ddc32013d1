/**
 * The dialog where this user changes the name and colour others see on their cursor.
 */
import type { UserInput } from "../../protocol/events";
import { renameUser } from "./identity";

export interface ProfileDialogDeps {
  dialog: HTMLDialogElement;
  form: HTMLFormElement;
  name: HTMLInputElement;
  color: HTMLInputElement;
  cancel: HTMLButtonElement;
  user(): UserInput;
  /** The identity as saved. */
  changed(user: UserInput): void;
}

export class ProfileDialog {
  constructor(private readonly deps: ProfileDialogDeps) {
    deps.form.addEventListener("submit", (event) => {
      // Handled here: the page never navigates (and the Content-Security-Policy allows no form targets).
      event.preventDefault();
      deps.changed(renameUser(deps.user(), deps.name.value, deps.color.value));
      deps.dialog.close();
    });
    deps.cancel.addEventListener("click", () => deps.dialog.close());
  }

  open(): void {
    const user = this.deps.user();
    this.deps.name.value = user.name;
    this.deps.color.value = user.color;
    this.deps.dialog.showModal();
  }
}
