// A value or a typed failure. Used wherever input comes from outside (network, URL, storage):
// hostile input is expected there, so it is a result to handle, not an exception to forget.

export type Result<T, E> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: E };

export function ok<T>(value: T): { readonly ok: true; readonly value: T } {
  return { ok: true, value };
}

export function err<E>(error: E): { readonly ok: false; readonly error: E } {
  return { ok: false, error };
}
