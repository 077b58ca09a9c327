/**
 * `weft mtls` without a network: what each command writes, what it refuses before writing, and how
 * it shows the modes. (packages/http/test/mtls.test.ts checks what the documents do, for real.)
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { UsageError } from '../src/commands.ts';
import { mtlsMode, mtlsStatus } from '../src/mtls.ts';
import { fakeApi } from './fake-api.ts';

describe('weft mtls', () => {
  test('strict and permissive write the mesh-wide document, or the one of --service', async () => {
    const f = fakeApi({ revision: 9 });
    await mtlsMode(f.request, f.o, 'STRICT');
    await mtlsMode(f.request, f.o, 'PERMISSIVE', { service: 'catalog' });
    assert.deepEqual(f.sent, [
      { method: 'PUT', path: '/v1/documents/PeerAuthentication/mesh', body: { spec: { mode: 'STRICT' } } },
      {
        method: 'PUT',
        path: '/v1/documents/PeerAuthentication/catalog',
        body: { spec: { mode: 'PERMISSIVE' } },
      },
    ]);
    assert.deepEqual(f.lines, [
      'PeerAuthentication/mesh: STRICT for the mesh (default)\nrevision 9',
      'PeerAuthentication/catalog: PERMISSIVE for service catalog\nrevision 9',
    ]);
  });

  test('a bad --service, or the name mesh, is refused before anything is written', async () => {
    const f = fakeApi({ revision: 9 });
    await assert.rejects(mtlsMode(f.request, f.o, 'STRICT', { service: 'Bad_Name' }), UsageError);
    await assert.rejects(mtlsMode(f.request, f.o, 'STRICT', { service: 'mesh' }), /mesh-wide default/);
    assert.deepEqual(f.sent, []);
  });

  test('status shows the mesh (PERMISSIVE without a document) and each service’s own', async () => {
    const none = fakeApi({ revision: 3, documents: [] });
    await mtlsStatus(none.request, none.o);
    assert.deepEqual(none.lines, ['mesh: PERMISSIVE (no document: the default)']);
    const some = fakeApi({
      revision: 12,
      documents: [
        { kind: 'PeerAuthentication', name: 'orders', spec: { mode: 'PERMISSIVE' }, revision: 11 },
        { kind: 'PeerAuthentication', name: 'mesh', spec: { mode: 'STRICT' }, revision: 10 },
      ],
    });
    await mtlsStatus(some.request, some.o);
    assert.deepEqual(some.lines, [
      'mesh: STRICT (since revision 10)\nservice orders: PERMISSIVE (since revision 11)',
    ]);
  });
});
