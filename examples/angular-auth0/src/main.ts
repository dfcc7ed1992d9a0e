import { bootstrapApplication } from '@angular/platform-browser';
import { App } from './app/app';
import { appConfig, loadSettings } from './app/app.config';

loadSettings()
  .then((settings) => bootstrapApplication(App, appConfig(settings)))
  .catch((err) => {
    console.error(err);
    document.body.textContent = `Could not start: ${err}`;
  });
