// A group of three: create, talk with sender names, ticks need every member,
// rename, remove and re-add a member (admin), system messages in order.
const { test, expect } = require('@playwright/test');
const h = require('./helpers');

test('group of three: create, talk, rename, remove and add members', async ({ browser }) => {
  const alice = await h.signIn(browser, 'Alice');
  const bob = await h.signIn(browser, 'Bob');
  const carol = await h.signIn(browser, 'Carol', { viewport: { width: 390, height: 844 } });
  const [a, b, c] = [alice.page, bob.page, carol.page];

  // Some direct chats first, so Alice's list has a few rows.
  await h.startDirectChat(b, alice.phone);
  await h.send(b, 'Are you coming tonight?');
  await h.startDirectChat(c, alice.phone);
  await h.send(c, 'Call me when you can');
  await c.getByTestId('back').click();
  await expect(a.getByTestId('chat-item')).toHaveCount(2);

  // Alice creates the group with Bob and Carol.
  await a.getByTestId('new-group').click();
  await a.getByTestId('new-group-title').fill('Weekend trip');
  await a.getByTestId('new-group-phone').fill(bob.phone);
  await a.getByTestId('new-group-add').click();
  await expect(a.getByTestId('new-group-members')).toContainText(bob.phone);
  await a.getByTestId('new-group-phone').fill(carol.phone);
  await a.getByTestId('new-group-phone').press('Enter');
  await expect(a.getByTestId('new-group-members')).toContainText(carol.phone);
  await a.getByTestId('new-group-submit').click();
  await expect(a.getByTestId('conv-title')).toHaveText('Weekend trip');
  await expect(a.getByTestId('system-message').first()).toContainText('You created the group “Weekend trip”');
  await expect(a.getByTestId('conv-status')).toContainText('3 members');

  // Bob and Carol see it appear in their lists.
  await h.openChat(b, 'Weekend trip');
  await expect(c.getByTestId('chat-item').filter({ hasText: 'Weekend trip' })).toBeVisible();
  await h.shot(c, 'phone-chat-list');
  await h.openChat(c, 'Weekend trip');
  await expect(c.getByTestId('system-message').first()).toContainText('Alice created the group');

  // Everyone talks; others' messages carry the sender's name.
  await h.send(b, "I'm in");
  await h.send(c, 'Me too!');
  await h.send(a, "Great, let's leave Saturday at 9");
  for (const p of [a, b, c]) {
    await expect(p.getByTestId('message-body')).toHaveText(["I'm in", 'Me too!', "Great, let's leave Saturday at 9"]);
  }
  await expect(h.message(a, "I'm in").getByTestId('message-sender')).toHaveText('Bob');
  await expect(h.message(b, 'Me too!').getByTestId('message-sender')).toHaveText('Carol');
  await expect(h.message(a, 'Me too!').getByTestId('message-sender')).toHaveText('Carol');
  // Both others have the chat open: read by everyone.
  await h.expectTick(a, "Great, let's leave Saturday at 9", 'read');
  await h.expectTick(b, "I'm in", 'read');

  // Carol leaves the conversation screen; Alice's next message is read only
  // once every member has read it.
  await c.getByTestId('back').click();
  await expect(c.getByTestId('chat-list')).toBeVisible();
  await h.send(a, 'Bring snacks');
  await expect(h.message(b, 'Bring snacks')).toBeVisible();
  await h.expectTick(a, 'Bring snacks', 'delivered');
  await expect(c.getByTestId('chat-item').filter({ hasText: 'Weekend trip' }).getByTestId('unread-badge')).toHaveText('1');
  await h.openChat(c, 'Weekend trip');
  await h.expectTick(a, 'Bring snacks', 'read');
  await h.shot(c, 'phone-conversation');

  // Alice (admin) renames the group; everyone sees the new title and a system message.
  await a.getByTestId('chat-info').click();
  await expect(a.getByTestId('chat-info-page')).toBeVisible();
  await expect(a.getByTestId('member')).toHaveCount(3);
  await a.getByTestId('group-title-input').fill('Saturday trip');
  await a.getByTestId('rename-group').click();
  await expect(a.getByTestId('group-title')).toHaveText('Saturday trip');
  await expect(b.getByTestId('conv-title')).toHaveText('Saturday trip');
  await expect(b.getByTestId('system-message').last()).toHaveText('Alice renamed the group to “Saturday trip”');
  await expect(c.getByTestId('conv-title')).toHaveText('Saturday trip');

  // Bob is not an admin: his info page offers no rename or remove.
  await b.getByTestId('chat-info').click();
  await expect(b.getByTestId('member')).toHaveCount(3);
  await expect(b.getByTestId('rename-group')).toBeHidden();
  await expect(b.getByTestId('remove-member')).toHaveCount(0);
  await b.getByTestId('info-back').click();

  // Alice removes Carol: Carol can no longer write.
  await h.shot(a, 'group-info');
  await a.getByTestId('member').filter({ hasText: 'Carol' }).getByTestId('remove-member').click();
  await expect(a.getByTestId('member')).toHaveCount(2);
  await expect(c.getByTestId('left-note')).toBeVisible();
  await expect(c.getByTestId('composer')).toBeHidden();
  await expect(b.getByTestId('system-message').last()).toHaveText('Alice removed Carol');

  // Alice adds Carol back by phone number; Carol can write again.
  await a.getByTestId('add-member-input').fill(carol.phone);
  await a.getByTestId('add-member').click();
  await expect(a.getByTestId('member')).toHaveCount(3);
  await expect(c.getByTestId('composer')).toBeVisible();
  await h.send(c, "Thanks, I'm back");
  await expect(h.message(b, "Thanks, I'm back")).toBeVisible();
  await expect(b.getByTestId('system-message').last()).toHaveText('Alice added Carol');

  // Alice makes Bob an admin: he can now rename the group.
  await a.getByTestId('member').filter({ hasText: 'Bob' }).getByTestId('make-admin').click();
  await expect(a.getByTestId('member').filter({ hasText: 'Bob' }).getByTestId('member-role')).toHaveText('admin');
  await expect(c.getByTestId('system-message').last()).toHaveText('Alice made Bob an admin');
  await expect(b.getByTestId('system-message').last()).toHaveText('Alice made you an admin');
  await b.getByTestId('chat-info').click();
  await expect(b.getByTestId('rename-group')).toBeVisible();
  await b.getByTestId('info-back').click();

  await a.getByTestId('info-back').click();
  await expect(h.message(a, "Thanks, I'm back")).toBeVisible();
  await h.shot(a, 'group');
  await a.evaluate(() => { location.hash = '#/'; });
  await expect(a.getByTestId('empty-pane')).toBeVisible();
  await expect(a.getByTestId('unread-badge')).toHaveText(['1', '1']);
  await h.shot(a, 'chat-list');

  for (const u of [alice, bob, carol]) await u.context.close();
  expect(h.problems).toEqual([]);
});
