"""Canned replies: bilingual snippets agents insert into chats and emails, per team."""
