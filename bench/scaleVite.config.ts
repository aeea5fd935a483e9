/**
 * The app's Vite config for the scale bench's dev server, without HMR or file
 * watching: the bench runs for many minutes in a working tree others edit,
 * and a reload of the page (Vite's answer to an edited module) would kill the
 * bench worker mid-write.
 */
import { defineConfig, mergeConfig } from 'vite';
import base from '../vite.config.ts';

export default mergeConfig(base, defineConfig({ server: { hmr: false, watch: null } }));
