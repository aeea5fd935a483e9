// ESLint: a short list of rules that catch real bugs (promises nobody awaits,
// switches that miss a case, dead variables, `any` leaking in), not a style
// guide: formatting is Prettier's job and is checked separately.
import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig([
  globalIgnores(['dist/', 'public/', '.cache/', 'test-results/', 'playwright-report/', 'scratch/', '.tmp/', '**/*.generated.ts']),

  js.configs.recommended,
  // typescript-eslint's parser and plugin, without its presets: the rules are chosen below.
  tseslint.configs.base,
  // Turns off the core rules TypeScript's own checks make redundant in .ts files (no-undef, no-redeclare, ...).
  tseslint.configs.eslintRecommended,
  {
    languageOptions: {
      parserOptions: {
        // tsconfig.json covers every .ts file; the few JavaScript files (this config,
        // the npm-test and set-up scripts) get its compiler options as a default project.
        projectService: { allowDefaultProject: ['*.js', 'scripts/*.mjs'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unnecessary-type-assertion': 'error',
      // A value that may be missing is checked (or its state modelled), so a wrong guess fails with a sentence, not a TypeError later.
      '@typescript-eslint/no-non-null-assertion': 'error',
      'no-unused-vars': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
    },
  },
  {
    // Node scripts in plain JavaScript (tsc does not check them, so no-undef stays on).
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  {
    // The plugin's recommended set: the rules of hooks, effect dependencies and
    // the React Compiler's checks (state set inside effects, refs read in render).
    files: ['src/ui/**/*.{ts,tsx}', 'src/main.tsx'],
    ...reactHooks.configs.flat.recommended,
    rules: { ...reactHooks.configs.flat.recommended.rules, 'react-hooks/exhaustive-deps': 'error' },
  },
]);
