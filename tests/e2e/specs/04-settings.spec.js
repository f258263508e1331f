// Settings: display name and last-seen privacy (everyone / contacts / nobody),
// which hides presence from others (and theirs from you); sign out.
const { test, expect } = require('@playwright/test');
const h = require('./helpers');

test('settings: name, last-seen privacy, sign out', async ({ browser }) => {
  const alice = await h.signIn(browser, 'Alice');
  const bob = await h.signIn(browser, 'Bob');
  const [a, b] = [alice.page, bob.page];

  await h.startDirectChat(b, alice.phone);
  await h.send(b, 'Hello Alice');
  await h.openChat(a, 'Bob');
  await expect(b.getByTestId('conv-status')).toHaveText('online');

  // Alice renames herself: Bob sees the new name after a reload.
  await a.getByTestId('open-settings').click();
  await expect(a.getByTestId('settings-page')).toBeVisible();
  await expect(a.getByTestId('privacy-everyone')).toBeChecked();
  await a.getByTestId('settings-name').fill('Alice Liddell');
  await a.getByTestId('settings-name-save').click();
  await expect(a.getByTestId('settings-status')).toHaveText('Name saved');
  await expect(a.getByTestId('me-name')).toHaveText('Alice Liddell');

  // Contacts: Bob shares a direct chat with Alice, so he still sees her.
  await a.getByTestId('privacy-contacts').check();
  await expect(a.getByTestId('settings-status')).toHaveText('Privacy saved');
  await b.reload();
  await h.expectOnline(b);
  await expect(b.getByTestId('conv-title')).toHaveText('Alice Liddell');
  await expect(b.getByTestId('conv-status')).toHaveText('online');

  // Nobody: Bob sees neither "online" nor "last seen".
  await a.getByTestId('privacy-nobody').check();
  await expect(a.getByTestId('settings-status')).toHaveText('Privacy saved');
  await h.shot(a, 'settings');
  await b.reload();
  await h.expectOnline(b);
  await expect(b.getByTestId('conv-status')).toHaveAttribute('data-state', 'hidden');
  await expect(b.getByTestId('conv-status')).toHaveText('');
  await expect(b.getByTestId('online-dot')).toHaveCount(0);
  // ...and Alice, hiding hers, sees nobody's.
  await a.goto('/#/');
  await h.openChat(a, 'Bob');
  await expect(a.getByTestId('conv-status')).toHaveAttribute('data-state', 'hidden');

  // Back to everyone.
  await a.getByTestId('open-settings').click();
  await a.getByTestId('privacy-everyone').check();
  await expect(a.getByTestId('settings-status')).toHaveText('Privacy saved');
  await b.reload();
  await expect(b.getByTestId('conv-status')).toHaveText('online');

  // The preference is stored on the server.
  await a.reload();
  await expect(a.getByTestId('privacy-everyone')).toBeChecked();

  // Sign out: back to the sign-in screen, and the token no longer works.
  const token = await a.evaluate(() => JSON.parse(localStorage.getItem('chatd.session')).token);
  await a.getByTestId('sign-out').click();
  await expect(a.getByTestId('signin')).toBeVisible();
  expect(await a.evaluate(() => localStorage.getItem('chatd.session'))).toBeNull();
  const res = await a.request.get('/v1/me', { headers: { Authorization: `Bearer ${token}` } });
  expect(res.status()).toBe(401);
  // Bob sees Alice go offline (her only device signed out).
  await expect(b.getByTestId('conv-status')).toHaveText(/^last seen /);

  for (const u of [alice, bob]) await u.context.close();
  expect(h.problems).toEqual([]);
});
