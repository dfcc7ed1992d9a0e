import {
  ApplicationConfig,
  InjectionToken,
  provideBrowserGlobalErrorListeners,
} from '@angular/core';
import { provideHttpClient, withInterceptors } from '@angular/common/http';
import { authHttpInterceptorFn, provideAuth0 } from '@auth0/auth0-angular';

/** The Measurements API of examples/measurements-api/seed.json. */
export const AUDIENCE = 'https://measurements.example/api';
export const SCOPE = 'read:measurements';

/** Where Gatehouse, the client and the API are: public/config.json, read at startup. */
export interface Settings {
  /** Gatehouse's URL; auth0-spa-js takes a full http:// URL as the domain. */
  domain: string;
  clientId: string;
  /** The Measurements API's origin, e.g. http://127.0.0.1:8081. */
  apiUrl: string;
}

export const SETTINGS = new InjectionToken<Settings>('settings');

export async function loadSettings(): Promise<Settings> {
  const response = await fetch('config.json', { cache: 'no-store' });
  if (!response.ok) {
    throw new Error(`config.json: HTTP ${response.status}`);
  }
  const settings = (await response.json()) as Settings;
  return { ...settings, apiUrl: settings.apiUrl.replace(/\/+$/, '') };
}

export function appConfig(settings: Settings): ApplicationConfig {
  return {
    providers: [
      provideBrowserGlobalErrorListeners(),
      { provide: SETTINGS, useValue: settings },
      provideAuth0({
        domain: settings.domain,
        clientId: settings.clientId,
        authorizationParams: {
          redirect_uri: window.location.origin,
          audience: AUDIENCE,
          // auth0-spa-js 2 replaces its default "openid profile email" with the
          // scope given here, so profile and email are asked for explicitly.
          scope: `openid profile email ${SCOPE}`,
        },
        httpInterceptor: {
          allowedList: [
            {
              uri: `${settings.apiUrl}/api/*`,
              tokenOptions: { authorizationParams: { audience: AUDIENCE, scope: SCOPE } },
            },
          ],
        },
      }),
      provideHttpClient(withInterceptors([authHttpInterceptorFn])),
    ],
  };
}
