// Independent cross-check: FHIR.js (npm `fhir` 4.12.0) loaded with the OFFICIAL core packages.
//
// Usage: node fhirjs_validate.js < request.json > answer.json
// request: {"packages": {"R4": "<dir of hl7.fhir.r4.core>", "R5": "<dir>"}, "files": [["path", "R4"], ...]}
// answer:  {"path": ["error Location: message", ...], ...}   (FHIR.js's 'info' messages left out)
//
// One process validates a whole batch; each version's definitions are loaded once, on first use, in the
// order FHIR.js needs (CodeSystems and ValueSets, then type, then resource StructureDefinitions), as in
// shared/standards/fhir-test-harness/validate-fhirjs-official.js. FHIR.js's built-in 4.0.0 profiles are
// not used.
'use strict';
const fs = require('fs');
const path = require('path');
const {Fhir, ParseConformance, Versions} = require('fhir');
// FHIR.js's own severity names: its information messages say 'info', not 'information'.
const {Severities} = require('fhir/validator');

function loadPackage(dir, version) {
  const names = fs.readdirSync(dir);
  const load = (prefix) => names
    .filter((n) => n.startsWith(prefix + '-') && n.endsWith('.json'))
    .sort()
    .map((n) => JSON.parse(fs.readFileSync(path.join(dir, n), 'utf8')));
  const bundle = (resources) => ({resourceType: 'Bundle', entry: resources.map((resource) => ({resource}))});
  // FHIR.js 4.12.0 reads element bindings only when parsing as R4 (parseConformance.js, populateValueSet);
  // the binding element has the same shape in R5, so R5 definitions are parsed in R4 mode, which is the
  // only thing that mode changes. Without it FHIR.js checks no required binding of R5 at all.
  const parser = new ParseConformance(false, Versions.R4);
  parser.parseBundle(bundle([...load('CodeSystem'), ...load('ValueSet')]));
  const sds = load('StructureDefinition').filter((sd) => sd.derivation !== 'constraint' && sd.kind !== 'logical');
  parser.parseBundle(bundle(sds.filter((sd) => sd.kind !== 'resource')));
  parser.parseBundle(bundle(sds.filter((sd) => sd.kind === 'resource')));
  return new Fhir(parser);
}

const request = JSON.parse(fs.readFileSync(0, 'utf8'));
const validators = {};
const answer = {};
for (const [file, version] of request.files) {
  if (!validators[version]) {
    validators[version] = loadPackage(request.packages[version], version);
  }
  let messages;
  try {
    const resource = JSON.parse(fs.readFileSync(file, 'utf8'));
    const result = validators[version].validate(resource, {errorOnUnexpected: true});
    messages = result.messages
      .filter((m) => m.severity !== Severities.Information)
      .map((m) => `${m.severity} ${m.location}: ${m.message}`);
  } catch (err) {
    messages = [`fatal ${file}: ${err && err.message ? err.message : String(err)}`];
  }
  answer[file] = messages;
}
process.stdout.write(JSON.stringify(answer));
