// Drives a running FHIR R4 server with fhir-kit-client, the way a third-party
// client would, and checks each response. Usage:
//
//	node client.mjs http://127.0.0.1:PORT/fhir
//
// It prints one line per check and exits with status 1 at the first
// mismatch, printing what was expected and what came back. The server must
// be empty or at least hold no Patient with the family names it makes up.

import { randomUUID } from 'node:crypto';
import { Client } from 'fhir-kit-client';

const baseUrl = process.argv[2];
if (!baseUrl) {
  console.error('usage: node client.mjs FHIR_BASE_URL');
  process.exit(2);
}
const client = new Client({ baseUrl });

// A family name no other run uses, so searches see only this run's
// patients. FHIR string search matches prefixes, so each name is unique.
const runID = randomUUID().replaceAll('-', '').replace(/[0-9]/g, (d) => 'abcdefghij'[d]);

class Mismatch extends Error {}

function expect(condition, message) {
  if (!condition) throw new Mismatch(message);
}

function expectEqual(actual, expected, field) {
  expect(actual === expected, `${field}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

// http returns the fetch Response that fhir-kit-client attached to a result.
function http(result) {
  return Client.httpFor(result).response;
}

async function check(name, fn) {
  try {
    const detail = await fn();
    console.log(`ok    ${name}${detail ? `: ${detail}` : ''}`);
  } catch (err) {
    console.log(`FAIL  ${name}: ${describe(err)}`);
    process.exit(1);
  }
}

function describe(err) {
  if (err instanceof Mismatch) return err.message;
  if (err.response) {
    const issues = err.response.data?.issue ?? [];
    const diagnostics = issues.map((i) => i.diagnostics).filter(Boolean).join('; ');
    return `${err.message}${diagnostics ? ` (${diagnostics})` : ''}`;
  }
  if (err.cause) return `${err.message}: ${err.cause.message ?? err.cause}`;
  return err.stack ?? String(err);
}

function patient(family, extra = {}) {
  return { resourceType: 'Patient', name: [{ family, given: ['Test'] }], ...extra };
}

let patientID;

await check('capability statement', async () => {
  const cs = await client.capabilityStatement();
  expectEqual(cs.resourceType, 'CapabilityStatement', 'resourceType');
  expectEqual(cs.fhirVersion, '4.0.1', 'fhirVersion');
  const resource = cs.rest[0].resource.find((r) => r.type === 'Patient');
  const codes = resource.interaction.map((i) => i.code);
  for (const code of ['create', 'read', 'update', 'patch', 'history-instance', 'search-type']) {
    expect(codes.includes(code), `Patient interactions lack ${code}: ${codes.join(', ')}`);
  }
  return `FHIR ${cs.fhirVersion}`;
});

await check('create', async () => {
  const created = await client.create({ resourceType: 'Patient', body: patient(`Create${runID}`) });
  expectEqual(http(created).status, 201, 'status');
  expectEqual(http(created).headers.get('etag'), 'W/"1"', 'ETag');
  expectEqual(created.meta?.versionId, '1', 'meta.versionId');
  expect(created.id, 'the created Patient has no id');
  patientID = created.id;
  return `Patient/${patientID}`;
});

await check('read', async () => {
  const read = await client.read({ resourceType: 'Patient', id: patientID });
  expectEqual(read.id, patientID, 'id');
  expectEqual(read.name[0].family, `Create${runID}`, 'name[0].family');
  return `version ${read.meta.versionId}`;
});

await check('update', async () => {
  const body = patient(`Create${runID}`, { id: patientID, birthDate: '1970-01-02' });
  const updated = await client.update({ resourceType: 'Patient', id: patientID, body });
  expectEqual(http(updated).status, 200, 'status');
  expectEqual(updated.meta.versionId, '2', 'meta.versionId');
  expectEqual(updated.birthDate, '1970-01-02', 'birthDate');
  return 'version 2';
});

await check('history', async () => {
  const history = await client.history({ resourceType: 'Patient', id: patientID });
  expectEqual(history.type, 'history', 'Bundle.type');
  const versions = (history.entry ?? []).map((e) => e.resource?.meta?.versionId);
  expectEqual(versions.join(','), '2,1', 'versions, newest first');
  return `${versions.length} versions`;
});

await check('search with paging', async () => {
  const family = `Paging${runID}`;
  const createdIDs = new Set();
  for (let i = 0; i < 7; i++) {
    const created = await client.create({ resourceType: 'Patient', body: patient(family) });
    createdIDs.add(created.id);
  }
  const seen = [];
  let pages = 0;
  let bundle = await client.search({ resourceType: 'Patient', searchParams: { family, _count: 3 } });
  while (bundle) {
    pages++;
    expect(pages <= 10, 'more than 10 pages for 7 resources: the next links do not end');
    const entries = bundle.entry ?? [];
    expect(entries.length <= 3, `page ${pages} has ${entries.length} entries, more than _count=3`);
    for (const e of entries) seen.push(e.resource.id);
    bundle = await client.nextPage({ bundle });
  }
  expectEqual(seen.length, 7, 'entries seen over all pages');
  expectEqual(new Set(seen).size, 7, 'distinct ids seen');
  for (const id of seen) expect(createdIDs.has(id), `search returned Patient/${id}, which this run did not create`);
  expectEqual(pages, 3, 'pages');
  return `7 patients over ${pages} pages`;
});

await check('transaction with urn:uuid references', async () => {
  const patientURL = `urn:uuid:${randomUUID()}`;
  const body = {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      {
        fullUrl: patientURL,
        resource: patient(`Txn${runID}`),
        request: { method: 'POST', url: 'Patient' },
      },
      {
        resource: {
          resourceType: 'Observation',
          status: 'final',
          code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
          subject: { reference: patientURL },
        },
        request: { method: 'POST', url: 'Observation' },
      },
    ],
  };
  const response = await client.transaction({ body });
  expectEqual(response.type, 'transaction-response', 'Bundle.type');
  expectEqual(response.entry.length, 2, 'entries');
  for (const [i, e] of response.entry.entries()) {
    expect(e.response.status.startsWith('201'), `entry ${i} status is ${e.response.status}, not 201`);
  }
  const [patientPath] = response.entry[0].response.location.split('/_history');
  const [observationType, observationID] = response.entry[1].response.location.split('/');
  const observation = await client.read({ resourceType: observationType, id: observationID });
  expectEqual(observation.subject.reference, patientPath, 'Observation.subject.reference');
  return `${patientPath} referenced by Observation/${observationID}`;
});

await check('conditional create twice', async () => {
  const identifier = { system: 'http://example.org/clienttest', value: runID };
  const body = { resourceType: 'Organization', identifier: [identifier], name: 'Client test clinic' };
  const options = { headers: { 'If-None-Exist': `identifier=${identifier.system}|${identifier.value}` } };
  const first = await client.create({ resourceType: 'Organization', body, options });
  expectEqual(http(first).status, 201, 'first status');
  const second = await client.create({ resourceType: 'Organization', body, options });
  expectEqual(http(second).status, 200, 'second status');
  expectEqual(second.id, first.id, 'id of the second answer');
  const found = await client.search({
    resourceType: 'Organization',
    searchParams: { identifier: `${identifier.system}|${identifier.value}` },
  });
  expectEqual((found.entry ?? []).length, 1, 'Organizations with the identifier');
  return `one Organization/${first.id}`;
});

await check('JSON Patch', async () => {
  const jsonPatch = [
    { op: 'test', path: '/birthDate', value: '1970-01-02' },
    { op: 'replace', path: '/birthDate', value: '1971-03-04' },
    { op: 'add', path: '/active', value: true },
  ];
  const options = { headers: { 'If-Match': 'W/"2"' } };
  const patched = await client.patch({ resourceType: 'Patient', id: patientID, jsonPatch, options });
  expectEqual(http(patched).status, 200, 'status');
  expectEqual(patched.meta.versionId, '3', 'meta.versionId');
  const read = await client.read({ resourceType: 'Patient', id: patientID });
  expectEqual(read.birthDate, '1971-03-04', 'birthDate after the patch');
  expectEqual(read.active, true, 'active after the patch');
  expectEqual(read.name[0].family, `Create${runID}`, 'name[0].family, which the patch did not touch');
  return 'version 3';
});

console.log('all checks passed');
