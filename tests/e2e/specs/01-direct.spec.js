// Two users in two browser contexts: sign in, start a chat, exchange messages;
// ticks go sent -> delivered -> read; typing shows and clears; replies; delete
// for everyone; presence shows online, then "last seen" once the other leaves.
const { test, expect } = require('@playwright/test');
const h = require('./helpers');

test('direct chat: messages, ticks, typing, replies, delete, presence', async ({ browser }) => {
  const alice = await h.signIn(browser, 'Alice', { screenshots: true });
  const bob = await h.signIn(browser, 'Bob');
  const a = alice.page;

  // Bob leaves the app: Alice's first message can only be "sent".
  await bob.page.goto('about:blank');

  await h.startDirectChat(a, bob.phone);
  await expect(a.getByTestId('conv-title')).toHaveText('Bob');
  await h.send(a, 'Hi Bob, how are you?');
  await h.expectTick(a, 'Hi Bob, how are you?', 'sent');
  // Still "sent" a moment later: nobody of Bob's devices has it.
  await a.waitForTimeout(300);
  await h.expectTick(a, 'Hi Bob, how are you?', 'sent');
  await expect(a.getByTestId('chat-item').first().getByTestId('chat-preview')).toContainText('Hi Bob');

  // Bob opens the app: his device receives and acknowledges it -> delivered.
  const b = bob.page;
  await b.goto('/');
  await h.expectOnline(b);
  const bobRow = b.getByTestId('chat-item').filter({ hasText: 'Alice' });
  await expect(bobRow.getByTestId('unread-badge')).toHaveText('1');
  await expect(bobRow.getByTestId('chat-preview')).toContainText('Hi Bob, how are you?');
  await h.expectTick(a, 'Hi Bob, how are you?', 'delivered');

  // Bob opens the chat: read.
  await bobRow.click();
  await expect(h.message(b, 'Hi Bob, how are you?')).toBeVisible();
  await h.expectTick(a, 'Hi Bob, how are you?', 'read');
  await expect(bobRow.getByTestId('unread-badge')).toHaveCount(0);

  // Presence: Alice sees Bob online (announced after 2 s online).
  await expect(a.getByTestId('conv-status')).toHaveText('online');
  await expect(a.getByTestId('chat-item').first().getByTestId('online-dot')).toBeVisible();

  // Typing shows on the other side and clears when the text is cleared.
  await b.getByTestId('composer').pressSequentially('Fine, tha', { delay: 20 });
  await expect(a.getByTestId('typing-indicator')).toHaveText('Bob is typing…');
  await b.getByTestId('composer').fill('');
  await b.getByTestId('composer').press('Backspace');
  await expect(a.getByTestId('typing-indicator')).toBeHidden();

  // Typing again and sending: the indicator clears with the message.
  await b.getByTestId('composer').pressSequentially('Fine, thanks!', { delay: 10 });
  await expect(a.getByTestId('typing-indicator')).toBeVisible();
  await b.getByTestId('composer').press('Enter');
  await expect(h.message(a, 'Fine, thanks!')).toBeVisible();
  await expect(a.getByTestId('typing-indicator')).toBeHidden();
  // Both sides look at the chat: Bob's message is read at once.
  await h.expectTick(b, 'Fine, thanks!', 'read');

  // A reply, quoting Bob's message.
  await h.message(a, 'Fine, thanks!').hover();
  await h.message(a, 'Fine, thanks!').getByTestId('reply-button').click();
  await expect(a.getByTestId('reply-preview')).toContainText('Fine, thanks!');
  await h.send(a, 'Glad to hear it');
  const reply = h.message(b, 'Glad to hear it');
  await expect(reply.getByTestId('reply-quote')).toContainText('Fine, thanks!');
  await expect(a.getByTestId('reply-preview')).toBeHidden();

  // Order is by seq, the same on both sides.
  const expected = ['Hi Bob, how are you?', 'Fine, thanks!', 'Glad to hear it'];
  await expect(a.getByTestId('message-body')).toHaveText(expected);
  await expect(b.getByTestId('message-body')).toHaveText(expected);

  // Delete for everyone: gone on Bob's side, replaced by "Message deleted".
  await h.send(a, 'Oops, wrong chat');
  await expect(h.message(b, 'Oops, wrong chat')).toBeVisible();
  const oops = h.message(a, 'Oops, wrong chat');
  await oops.hover();
  await oops.getByTestId('delete-button').click();
  await a.getByTestId('confirm-delete').click();
  await expect(h.message(a, 'Oops, wrong chat')).toHaveCount(0);
  await expect(h.message(b, 'Oops, wrong chat')).toHaveCount(0);
  await expect(b.getByTestId('message-deleted')).toHaveText('Message deleted');
  await expect(a.getByTestId('message-deleted')).toHaveText('Message deleted');
  // Bob cannot delete Alice's messages: no delete button on them.
  await expect(h.message(b, 'Glad to hear it').getByTestId('delete-button')).toHaveCount(0);

  // Enter sends; the keyboard alone reaches the composer.
  await h.send(b, 'See you later');
  await expect(h.message(a, 'See you later')).toBeVisible();

  await h.shot(a, 'conversation');

  // Bob closes the app: Alice sees "last seen ..." at once.
  await bob.context.close();
  await expect(a.getByTestId('conv-status')).toHaveText(/^last seen /);
  await expect(a.getByTestId('online-dot')).toHaveCount(0);

  // History survives a reload, in order, without duplicates.
  await a.reload();
  await h.expectOnline(a);
  await expect(a.getByTestId('message-body')).toHaveText(['Hi Bob, how are you?', 'Fine, thanks!', 'Glad to hear it', 'See you later']);
  await expect(a.getByTestId('message-deleted')).toHaveCount(1);
  await h.expectTick(a, 'Glad to hear it', 'read');

  await alice.context.close();
  expect(h.problems).toEqual([]);
});
