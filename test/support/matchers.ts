/**
 * jest's asymmetric matchers, typed as the values they stand for. @types/jest types them `any` so that they fit
 * anywhere, which lets an `any` into the expected object unchecked (typescript-eslint's no-unsafe-assignment); these
 * say what each one stands for instead.
 */

export const anyString = (): string => expect.any(String) as string;

export const anyNumber = (): number => expect.any(Number) as number;

export const anyObject = (): object => expect.any(Object) as object;

export const anyArray = (): unknown[] => expect.any(Array) as unknown[];

/** Anything but null and undefined. */
export const anything = (): unknown => expect.anything() as unknown;

export const stringMatching = (pattern: RegExp): string => expect.stringMatching(pattern) as string;

export const objectContaining = <T extends object>(shape: T): T => expect.objectContaining(shape) as T;

export const arrayContaining = <T>(items: readonly T[]): T[] => expect.arrayContaining(items) as T[];
