#!/usr/bin/env node
// Provisions the pinned scim2-server (an in-memory SCIM 2.0 server, Python >= 3.11), which
// test/helpers/scim-server.ts starts for the SCIM tests, into a Python venv in the git-ignored
// .temporal-bin/ (see scripts/lib/python-venv.mjs). Runs before every `npm test`, so the provisioned path
// stays fast. Pin in scripts/scim-server-version.json (`with`: further pins installed in the same pip
// run, such as scim2-models, whose API scim2-server follows closely).
//
// Usage: node scripts/provision-scim-server.mjs [--quiet-fail]
//   --quiet-fail  never exit non-zero (the SCIM tests then fail and say why; the rest runs)
// Honours SCIM_SERVER_PATH: an existing `scim2-server` command there is used instead (the helper runs
// the Python interpreter of its #! line).

import { provisionPythonTool } from './lib/python-venv.mjs';

process.exitCode = provisionPythonTool({
  tag: 'provision-scim-server:',
  pinFile: 'scripts/scim-server-version.json',
  displayName: 'scim2-server',
  command: 'scim2-server',
  minPython: [3, 11],
  // The command has no --version: the venv's importlib.metadata must report every pin.
  verify: 'metadata',
  hint: (pin) => [
    `  The SCIM tests (test/helpers/scim-server.ts) fail until it is. Fix the cause (python3 >= 3.11 with`,
    `  venv, PyPI reachable through pip) and run \`node scripts/provision-scim-server.mjs\` again, or point`,
    `  ${pin.envVar} at a scim2-server ${pin.version} command.`,
  ],
});
