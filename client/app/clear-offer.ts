/**
 * After a clear, everyone on the board is offered to undo it for a while (a clear by mistake, or by a
 * vandal, is then one click from undone), until the offer expires or the board is cleared again.
 */
import type { WriteAck } from "../../protocol/events";
import type { ClearOp } from "../core/session-api";

/** How long the offer stays. The service keeps cleared strokes longer (UNDO_CLEAR_SECONDS). */
const OFFER_MS = 60_000;

export interface ClearOfferDeps {
  bar: HTMLElement;
  text: HTMLElement;
  button: HTMLButtonElement;
  unclear(of: number): Promise<WriteAck>;
  /** Who a user id is, for "Ada cleared the board". */
  describe(userId: string): string;
  notify(message: string): void;
}

export class ClearOffer {
  /** The seq of the clear on offer. */
  private offered: number | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly deps: ClearOfferDeps) {
    deps.button.addEventListener("click", () => void this.undo());
  }

  /** A clear or an undone clear reached this page. */
  apply(op: ClearOp): void {
    if (op.t === "c") {
      this.offered = op.s;
      this.deps.text.textContent = `${this.deps.describe(op.u)} cleared the board.`;
      this.deps.bar.hidden = false;
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.withdraw(), OFFER_MS);
    } else if (op.of === this.offered) this.withdraw();
  }

  /** Stops offering (the offer expired, was taken, or names a clear of the board's previous epoch). */
  withdraw(): void {
    clearTimeout(this.timer);
    this.offered = undefined;
    this.deps.bar.hidden = true;
  }

  private async undo(): Promise<void> {
    const of = this.offered;
    if (of === undefined) return;
    this.deps.button.disabled = true;
    const ack = await this.deps.unclear(of).finally(() => (this.deps.button.disabled = false));
    if (ack.ok) return this.withdraw();
    this.deps.notify(unclearRefusal(ack));
    if (ack.code === "gone") this.withdraw();
  }
}

/** Plain words for why a clear was not undone. */
export function unclearRefusal(ack: Extract<WriteAck, { ok: false }>): string {
  switch (ack.code) {
    case "gone":
      return "Too late to undo that clear: what it removed has been deleted.";
    case "rate_limited":
      return `Not undone yet: ${ack.error}. Try again in a few seconds.`;
    default:
      return `Clear not undone: ${ack.error}`;
  }
}
