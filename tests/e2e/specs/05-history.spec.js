// Infinite scroll into history: a new device starts at the stream head, so older
// messages come from GET .../messages: the newest page first, older pages
// (?before=) as the user scrolls up, in seq order, without gaps.
const { test, expect } = require('@playwright/test');
const h = require('./helpers');

test('history: unread count, newest page first, older pages on scroll', async ({ browser, request }) => {
  // Alice and Bob exist before Alice's browser signs in; Bob writes 130 messages.
  const aliceApi = await h.apiUser(request, 'Alice');
  const bob = await h.apiUser(request, 'Bob');
  const chat = await (await request.post('/v1/chats', { data: { type: 'direct', user_id: aliceApi.user_id }, headers: bob.headers })).json();
  const total = 130;
  for (let i = 1; i <= total; i++) {
    const res = await request.post(`/v1/chats/${chat.chat_id}/messages`, {
      data: { client_msg_id: `hist-${i}`, body: `History message ${i}` }, headers: bob.headers,
    });
    expect(res.status()).toBe(201);
  }

  const alice = await h.signIn(browser, 'Alice', { existingPhone: aliceApi.phone });
  const a = alice.page;
  const row = a.getByTestId('chat-item').filter({ hasText: 'Bob' });
  await expect(row.getByTestId('unread-badge')).toHaveText(String(total));
  await expect(row.getByTestId('chat-preview')).toHaveText(`History message ${total}`);
  await row.click();
  const list = a.getByTestId('message-list');
  await expect(h.message(a, `History message ${total}`)).toBeVisible();
  await expect(row.getByTestId('unread-badge')).toHaveCount(0);
  // Only the newest page is loaded at first.
  expect(await a.getByTestId('message').count()).toBeLessThan(total);
  await expect(h.message(a, 'History message 1')).toHaveCount(0);

  // Scroll to the top until the first message is there.
  await expect(async () => {
    await list.evaluate((el) => { el.scrollTop = 0; el.dispatchEvent(new Event('scroll')); });
    await expect(h.message(a, 'History message 1')).toHaveCount(1, { timeout: 500 });
  }).toPass({ timeout: 20_000 });
  await expect(a.getByTestId('history-status')).toHaveText('This is the beginning of your conversation.');
  const expected = Array.from({ length: total }, (_, i) => `History message ${i + 1}`);
  await expect(a.getByTestId('message-body')).toHaveText(expected);

  // Alice read them all: the server says so to Bob.
  await expect(async () => {
    const r = await (await request.get(`/v1/chats/${chat.chat_id}/messages/${total}/receipts`, { headers: bob.headers })).json();
    expect(r.receipts[0].read_ts).not.toBeNull();
  }).toPass({ timeout: 5_000 });

  expect(h.problems).toEqual([]);
  await alice.context.close();
});
