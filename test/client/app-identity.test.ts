/**
 * The page's identity (client/app/identity.ts): whatever a person types as their name, the page keeps and sends one
 * the service accepts as it is (a join refused for its name would be retried, and refused, for ever), and a name with
 * nothing visible in it leaves the old one in place.
 */
import fc from "fast-check";
import { renameUser } from "../../client/app/identity";
import { userSchema } from "../../protocol/schema";

const ADA = { key: "k".repeat(22), name: "Ada", color: "#1967d2" };

test("any typed name becomes one the service accepts unchanged", () => {
  fc.assert(
    fc.property(fc.string({ unit: "binary", maxLength: 120 }), (typed) => {
      const { name } = renameUser(ADA, typed, "#137333");
      const parsed = userSchema.safeParse({ ...ADA, name });
      expect(parsed.success && parsed.data.name).toBe(name);
    }),
    { numRuns: 500 },
  );
});

test.each([
  ["invisible fillers only", "\u3164\u3164\u2800", "Ada"],
  ["spaces and a zero-width space", "  Grace \u200b  Hopper ", "Grace Hopper"],
  ["too long", "x".repeat(50), "x".repeat(40)],
  ["marks piled on a letter", "Ze\u0301\u0301\u0301\u0301d", "Ze\u0301\u0301d".normalize("NFC")],
])("a name of %s", (_, typed, kept) => {
  expect(renameUser(ADA, typed, ADA.color).name).toBe(kept);
});
