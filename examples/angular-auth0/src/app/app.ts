import { Component, inject, signal } from '@angular/core';
import { JsonPipe } from '@angular/common';
import { toSignal } from '@angular/core/rxjs-interop';
import { HttpClient, HttpErrorResponse } from '@angular/common/http';
import { AuthService } from '@auth0/auth0-angular';
import { firstValueFrom } from 'rxjs';
import { AUDIENCE, SCOPE, SETTINGS } from './app.config';

interface Measurement {
  id: number;
  sensor: string;
  celsius: number;
  recorded_by: string;
}

interface ApiResult {
  status: number;
  measurements?: Measurement[];
  body: unknown;
  wwwAuthenticate?: string | null;
}

interface AccessTokenClaims {
  aud?: string | string[];
  scope?: string;
  permissions?: string[];
  [claim: string]: unknown;
}

@Component({
  selector: 'app-root',
  imports: [JsonPipe],
  templateUrl: './app.html',
  styleUrl: './app.css',
})
export class App {
  private readonly auth = inject(AuthService);
  private readonly http = inject(HttpClient);
  protected readonly settings = inject(SETTINGS);

  protected readonly isLoading = toSignal(this.auth.isLoading$, { initialValue: true });
  protected readonly user = toSignal(this.auth.user$);
  protected readonly authError = toSignal(this.auth.error$);
  protected readonly apiResult = signal<ApiResult | null>(null);
  protected readonly claims = signal<AccessTokenClaims | null>(null);
  protected readonly calling = signal(false);

  constructor() {
    this.auth.isAuthenticated$.subscribe((authenticated) => {
      if (authenticated) {
        this.showAccessToken();
      }
    });
  }

  login(): void {
    this.auth.loginWithRedirect();
  }

  logout(): void {
    this.auth.logout({ logoutParams: { returnTo: window.location.origin } });
  }

  /** The interceptor attaches the token: this call names no token at all. */
  async callApi(): Promise<void> {
    this.calling.set(true);
    try {
      const response = await firstValueFrom(
        this.http.get<Measurement[]>(`${this.settings.apiUrl}/api/measurements`, {
          observe: 'response',
        }),
      );
      this.apiResult.set({ status: response.status, measurements: response.body ?? [], body: response.body });
    } catch (error) {
      if (error instanceof HttpErrorResponse) {
        this.apiResult.set({
          status: error.status,
          body: error.error,
          wwwAuthenticate: error.headers.get('www-authenticate'),
        });
      } else {
        this.apiResult.set({ status: 0, body: String(error) });
      }
    } finally {
      this.calling.set(false);
    }
  }

  private async showAccessToken(): Promise<void> {
    // The same audience and scope as the interceptor: the token it sends.
    const token = await firstValueFrom(
      this.auth.getAccessTokenSilently({ authorizationParams: { audience: AUDIENCE, scope: SCOPE } }),
    );
    this.claims.set(token ? decodePayload(token) : null);
  }
}

function decodePayload(jwt: string): AccessTokenClaims | null {
  const parts = jwt.split('.');
  if (parts.length !== 3) {
    return null;
  }
  const base64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes)) as AccessTokenClaims;
}
