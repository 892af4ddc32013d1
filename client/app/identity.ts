/**
 * Who this browser draws as: a random id, a name and a colour, chosen on the first visit and kept in
 * localStorage, so the same person keeps their undo history and their cursor's name across reloads and boards.
 * Where storage is unavailable (some private modes) the identity lasts as long as the page.
 */
import type { UserInfo } from "../../protocol/events";
import { COLOR_PATTERN, USER_ID_PATTERN } from "../../protocol/events";
import { randomId } from "../../protocol/random-id";

const STORAGE_KEY = "whiteboard.user";
/** Cursor colours: distinct from each other and readable under white text. */
const USER_COLORS = ["#c5221f", "#e8710a", "#188038", "#007b83", "#1a73e8", "#9334e6", "#b31412", "#5f6368"];
const ADJECTIVES = [
  "Amber",
  "Brisk",
  "Calm",
  "Deft",
  "Eager",
  "Fond",
  "Glad",
  "Keen",
  "Merry",
  "Quick",
  "Sunny",
  "Witty",
];
const ANIMALS = ["Otter", "Heron", "Lynx", "Panda", "Robin", "Fox", "Koala", "Wren", "Seal", "Ibex", "Finch", "Hare"];
const MAX_NAME_LENGTH = 40;

const pick = <T>(values: readonly T[]): T => values[Math.floor(Math.random() * values.length)] as T;

/** The stored identity, or a new one (stored at once). */
export function loadUser(): UserInfo {
  const stored = read();
  if (stored) return stored;
  // 16 random bytes: 22 characters, well inside the protocol's 8 to 32.
  const user = { id: randomId(16), name: `${pick(ADJECTIVES)} ${pick(ANIMALS)}`, color: pick(USER_COLORS) };
  saveUser(user);
  return user;
}

/** A new name or colour for the same id; returns the identity as kept (the name trimmed and cut to length). */
export function renameUser(user: UserInfo, name: string, color: string): UserInfo {
  const printable = name
    .replace(/[\p{Cc}\p{Cf}]/gu, "")
    .trim()
    .slice(0, MAX_NAME_LENGTH);
  const updated = { id: user.id, name: printable || user.name, color: COLOR_PATTERN.test(color) ? color : user.color };
  saveUser(updated);
  return updated;
}

function saveUser(user: UserInfo): void {
  try {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(user));
  } catch {
    // Storage refused: the identity lives with this page.
  }
}

function read(): UserInfo | undefined {
  try {
    const value: unknown = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? "null");
    if (typeof value !== "object" || value === null) return undefined;
    const { id, name, color } = value as Record<string, unknown>;
    const valid =
      typeof id === "string" &&
      USER_ID_PATTERN.test(id) &&
      typeof name === "string" &&
      name.length > 0 &&
      name.length <= MAX_NAME_LENGTH &&
      typeof color === "string" &&
      COLOR_PATTERN.test(color);
    return valid ? { id, name, color } : undefined;
  } catch {
    return undefined;
  }
}
