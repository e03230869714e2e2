// The API token: taken from the URL fragment (`#token=...`, which browsers never send to the server),
// or typed into the login form; kept in sessionStorage, so it goes away with the tab.
const KEY = 'anonnet.apiToken';

/** Moves a `#token=...` fragment into sessionStorage and removes it from the address bar. */
export function takeTokenFromFragment(): void {
  const params = new URLSearchParams(location.hash.replace(/^#/, ''));
  const token = params.get('token');
  if (token === null) return;
  if (token.trim() !== '') sessionStorage.setItem(KEY, token.trim());
  history.replaceState(null, '', location.pathname + location.search);
}

export function loadToken(): string | undefined {
  return sessionStorage.getItem(KEY) ?? undefined;
}

export function saveToken(token: string): void {
  sessionStorage.setItem(KEY, token.trim());
}

export function forgetToken(): void {
  sessionStorage.removeItem(KEY);
}
