import {
  ApplicationConfig,
  Injectable,
  InjectionToken,
  inject,
  provideBrowserGlobalErrorListeners,
  signal,
} from '@angular/core';
import {
  HttpInterceptorFn,
  HttpResponse,
  provideHttpClient,
  withInterceptors,
} from '@angular/common/http';
import { tap } from 'rxjs';
import { AuthConfig, OAuthService, provideOAuthClient } from 'angular-oauth2-oidc';

/** Where Gatehouse is and who the app is: public/config.json, read at startup. */
export interface Settings {
  /** Gatehouse's issuer exactly as its discovery document names it, with the trailing slash. */
  issuer: string;
  clientId: string;
  /** The API the "with audience" login asks for. */
  audience: string;
}

export const SETTINGS = new InjectionToken<Settings>('settings');

export async function loadSettings(): Promise<Settings> {
  const response = await fetch('config.json', { cache: 'no-store' });
  if (!response.ok) {
    throw new Error(`config.json: HTTP ${response.status}`);
  }
  return (await response.json()) as Settings;
}

/** The seed 001 configuration: code flow with PKCE, the API's scope, no audience yet. */
export function authConfig(settings: Settings): AuthConfig {
  return {
    issuer: settings.issuer,
    clientId: settings.clientId,
    redirectUri: window.location.origin + '/',
    postLogoutRedirectUri: window.location.origin + '/',
    responseType: 'code',
    scope: 'openid profile email read:measurements',
    // The library keeps only access_token, id_token and the granted scopes of
    // the token response; these are kept too, to be shown as they came.
    customTokenParameters: ['scope', 'token_type', 'expires_in'],
    // Plain http is fine on this machine's loopback, nowhere else
    // ('remoteOnly' would allow "localhost" but not 127.0.0.1).
    requireHttps: isLoopback(settings.issuer) ? false : 'remoteOnly',
  };
}

function isLoopback(url: string): boolean {
  return /^http:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?\//.test(url);
}

/**
 * What /userinfo itself answered: loadUserProfile() resolves with the ID
 * token's claims and the answer merged, which hides what came from where.
 */
@Injectable({ providedIn: 'root' })
export class UserinfoAnswer {
  readonly body = signal<unknown>(null);
}

const recordUserinfo: HttpInterceptorFn = (req, next) => {
  const oauth = inject(OAuthService);
  const answer = inject(UserinfoAnswer);
  return next(req).pipe(
    tap((event) => {
      if (event instanceof HttpResponse && req.url === oauth.userinfoEndpoint) {
        answer.body.set(typeof event.body === 'string' ? JSON.parse(event.body) : event.body);
      }
    }),
  );
};

export function appConfig(settings: Settings): ApplicationConfig {
  return {
    providers: [
      provideBrowserGlobalErrorListeners(),
      { provide: SETTINGS, useValue: settings },
      provideHttpClient(withInterceptors([recordUserinfo])),
      provideOAuthClient(),
    ],
  };
}
