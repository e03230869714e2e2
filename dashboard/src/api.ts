// Calls to the daemon's control API with the bearer token. A 401 is its own error (wrong token), so
// the page can say so and ask again; a 404 means "this daemon has no such API yet".
export class ApiCallError extends Error {
  override readonly name = 'ApiCallError';
  readonly code: string;
  readonly status: number;
  constructor(code: string, status: number, message: string) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

export const isUnauthorized = (err: unknown): boolean => err instanceof ApiCallError && err.status === 401;

export async function getJson(path: string, token: string, signal: AbortSignal): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(path, {
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
      cache: 'no-store',
      signal,
    });
  } catch (err) {
    if (signal.aborted) throw err;
    throw new ApiCallError('UNREACHABLE', 0, 'the daemon does not answer (is it running?)');
  }
  if (res.ok) return res.json();
  let code = `HTTP_${res.status}`;
  let message = res.statusText;
  try {
    const body = (await res.json()) as { error?: { code?: string; message?: string } };
    code = body.error?.code ?? code;
    message = body.error?.message ?? message;
  } catch {
    // Not JSON: keep the status line.
  }
  throw new ApiCallError(code, res.status, message);
}

/** Like getJson, but undefined when the daemon has no such route or service (404, 501, 503). */
export async function getOptionalJson(path: string, token: string, signal: AbortSignal): Promise<unknown> {
  try {
    return await getJson(path, token, signal);
  } catch (err) {
    if (err instanceof ApiCallError && (err.status === 404 || err.status === 501 || err.status === 503))
      return undefined;
    throw err;
  }
}
