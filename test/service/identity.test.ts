/**
 * The derivations behind identity and access: a user's id from the user's key, a board's id from its edit key.
 */
import { ID_PATTERN, KEY_PATTERN } from "../../protocol/events";
import { boardIdOf, newBoard, userIdOf } from "../../service/identity";

const KEY = "k".repeat(22);

test("ids are stable, URL-safe and of fixed length: 16 characters for a user, 22 for a board", () => {
  expect(userIdOf(KEY)).toBe(userIdOf(KEY));
  expect(userIdOf(KEY)).toMatch(/^[A-Za-z0-9_-]{16}$/);
  expect(boardIdOf(KEY)).toMatch(/^[A-Za-z0-9_-]{22}$/);
  expect(userIdOf(`${KEY}x`)).not.toBe(userIdOf(KEY));
});

test("the same secret gives unrelated ids as a user key and as an edit key", () => {
  expect(boardIdOf(KEY).startsWith(userIdOf(KEY))).toBe(false);
});

test("a new board is a random edit key and the board id derived from it", () => {
  const [one, two] = [newBoard(), newBoard()];
  expect(one.editKey).toMatch(KEY_PATTERN);
  expect(one.board).toMatch(ID_PATTERN);
  expect(boardIdOf(one.editKey)).toBe(one.board);
  expect(two.editKey).not.toBe(one.editKey);
});
