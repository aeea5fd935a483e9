/** The engine worker: exposes one AppEngine through comlink. */
import * as Comlink from 'comlink';
import { installComlinkErrorHandler } from '../src/app/comlinkErrors.ts';
import { AppEngine } from './appEngine.ts';

installComlinkErrorHandler();
Comlink.expose(new AppEngine());
