// A value now or later. The request path returns plain values where nothing waits (a cached token,
// a body the host already holds, claims from configuration): each avoided promise is a microtask
// per request, and under load those add up (see README "Performance").
export type MaybePromise<T> = T | Promise<T>
