import t from 'tap';
import ssh2 from 'ssh2';
t.test('ssh2 default import exposes Server', async (t) => {
  t.type(ssh2.Server, 'function');
});
