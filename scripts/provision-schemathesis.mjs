#!/usr/bin/env node
// Provisions the pinned Schemathesis CLI, which test/api/schemathesis.test.ts runs against the API's
// OpenAPI document, into a Python venv in the git-ignored .temporal-bin/ (see scripts/lib/python-venv.mjs).
// Runs before every `npm test`, so the provisioned path stays fast. Pin in
// scripts/schemathesis-version.json.
//
// Usage: node scripts/provision-schemathesis.mjs [--quiet-fail]
//   --quiet-fail  never exit non-zero (the Schemathesis test then fails and says why; the rest runs)
// Honours SCHEMATHESIS_PATH: an existing file there is used instead.

import { provisionPythonTool } from './lib/python-venv.mjs';

process.exitCode = provisionPythonTool({
  tag: 'provision-schemathesis:',
  pinFile: 'scripts/schemathesis-version.json',
  displayName: 'Schemathesis',
  command: 'schemathesis',
  verify: '--version',
  hint: (pin) => [
    `  test/api/schemathesis.test.ts fails until it is. Fix the cause (python3 with venv, PyPI reachable`,
    `  through pip) and run \`node scripts/provision-schemathesis.mjs\` again, or point ${pin.envVar}`,
    `  at a schemathesis ${pin.version} CLI.`,
  ],
});
