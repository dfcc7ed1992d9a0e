import { Component, inject, signal } from '@angular/core';
import { JsonPipe } from '@angular/common';
import { OAuthService } from 'angular-oauth2-oidc';
import { authConfig, SETTINGS, UserinfoAnswer } from './app.config';

/** What the token endpoint answered, as the library kept it. */
interface TokenResponse {
  scope: string | null;
  token_type: string | null;
  expires_in: number | null;
}

/** A JWT shows its payload; anything else is opaque, usable only at Gatehouse (/userinfo). */
type AccessToken =
  | { format: 'jwt'; claims: Record<string, unknown> }
  | { format: 'opaque'; length: number };

/** Which login this tab started, remembered across the redirect. */
const MODE_KEY = 'login-with-audience';

@Component({
  selector: 'app-root',
  imports: [JsonPipe],
  templateUrl: './app.html',
  styleUrl: './app.css',
})
export class App {
  private readonly oauth = inject(OAuthService);
  private readonly userinfoAnswer = inject(UserinfoAnswer);
  protected readonly settings = inject(SETTINGS);

  protected readonly ready = signal(false);
  protected readonly loggedIn = signal(false);
  protected readonly withAudience = signal<boolean | null>(null);
  protected readonly identity = signal<Record<string, unknown> | null>(null);
  protected readonly tokenResponse = signal<TokenResponse | null>(null);
  protected readonly accessToken = signal<AccessToken | null>(null);
  protected readonly userinfo = signal<{ ok: boolean; body: unknown } | null>(null);
  protected readonly error = signal<string | null>(null);

  constructor() {
    this.oauth.configure(authConfig(this.settings));
    this.start();
  }

  private async start(): Promise<void> {
    try {
      await this.oauth.loadDiscoveryDocumentAndTryLogin();
    } catch (error) {
      this.error.set(describe(error));
    }
    if (this.oauth.hasValidAccessToken()) {
      this.showTokens();
    }
    this.ready.set(true);
  }

  login(withAudience: boolean): void {
    sessionStorage.setItem(MODE_KEY, String(withAudience));
    // Seed 001's fix: without an audience Gatehouse (like Auth0) issues an
    // opaque token for /userinfo and drops the API's scope.
    this.oauth.customQueryParams = withAudience ? { audience: this.settings.audience } : {};
    this.oauth.initCodeFlow();
  }

  /**
   * Ends Gatehouse's session through the discovery document's
   * end_session_endpoint (a redirect). Without one the library only forgets
   * the tokens, so the page is reset here.
   */
  logout(): void {
    sessionStorage.removeItem(MODE_KEY);
    this.oauth.logOut();
    this.loggedIn.set(false);
    this.tokenResponse.set(null);
    this.accessToken.set(null);
    this.userinfo.set(null);
  }

  async loadUserinfo(): Promise<void> {
    try {
      await this.oauth.loadUserProfile();
      this.userinfo.set({ ok: true, body: this.userinfoAnswer.body() });
    } catch (error) {
      this.userinfo.set({ ok: false, body: describe(error) });
    }
  }

  private showTokens(): void {
    const mode = sessionStorage.getItem(MODE_KEY);
    this.withAudience.set(mode === null ? null : mode === 'true');
    this.loggedIn.set(true);
    this.identity.set(this.oauth.getIdentityClaims() ?? null);
    this.tokenResponse.set({
      scope: this.oauth.getCustomTokenResponseProperty('scope'),
      token_type: this.oauth.getCustomTokenResponseProperty('token_type'),
      expires_in: this.oauth.getCustomTokenResponseProperty('expires_in'),
    });
    this.accessToken.set(inspect(this.oauth.getAccessToken()));
  }
}

function inspect(token: string): AccessToken {
  const parts = token.split('.');
  if (parts.length === 3) {
    try {
      decode(parts[0]);
      return { format: 'jwt', claims: decode(parts[1]) };
    } catch {
      // three parts that are not JSON: not a JWT
    }
  }
  return { format: 'opaque', length: token.length };
}

function decode(part: string): Record<string, unknown> {
  const bytes = Uint8Array.from(atob(part.replace(/-/g, '+').replace(/_/g, '/')), (c) =>
    c.charCodeAt(0),
  );
  return JSON.parse(new TextDecoder().decode(bytes));
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    return error.message;
  }
  if (error && typeof error === 'object' && 'message' in error) {
    return String((error as { message: unknown }).message);
  }
  return typeof error === 'string' ? error : JSON.stringify(error);
}
