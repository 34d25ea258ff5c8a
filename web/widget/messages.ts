/**
 * The web-chat widget's words in English, Russian and Polish; the widget speaks the visitor's
 * browser language (`navigator.languages`, web/i18n/translate.ts `pickLocale`). A shop's
 * `data-title` is the shop's own text and is shown as given.
 */
export const en = {
  'title.default': 'Chat with us',
  'dialog.label': 'Chat',
  'close.label': 'Close chat',
  'log.label': 'Conversation',
  'attach.title': 'Attach a picture or PDF',
  'attach.label': 'Attach a file',
  'input.label': 'Your message',
  'input.placeholder': 'Write a message…',
  'send': 'Send',
  'empty': 'Ask us anything — we usually answer within minutes.',
  'meta.agent': 'Support · {time}',
  'meta.failed': 'Not sent — tap Send to retry',
  'meta.sending': 'Sending…',
  'error.send': 'Your message could not be sent. Check your connection and try again.',
  'error.fileType': 'You can send pictures (JPEG, PNG, GIF, WebP) and PDFs of up to {size} MB.',
  'error.upload': 'The file could not be uploaded. Try again.',
  'file.default': 'file',
  'unread': '{count, plural, one {# new message} other {# new messages}}',
} satisfies Record<string, string>;

type Catalogue = Record<keyof typeof en, string>;

export const ru: Catalogue = {
  'title.default': 'Напишите нам',
  'dialog.label': 'Чат',
  'close.label': 'Закрыть чат',
  'log.label': 'Переписка',
  'attach.title': 'Прикрепить изображение или PDF',
  'attach.label': 'Прикрепить файл',
  'input.label': 'Ваше сообщение',
  'input.placeholder': 'Напишите сообщение…',
  'send': 'Отправить',
  'empty': 'Спрашивайте — обычно мы отвечаем за несколько минут.',
  'meta.agent': 'Поддержка · {time}',
  'meta.failed': 'Не отправлено — нажмите «Отправить», чтобы повторить',
  'meta.sending': 'Отправка…',
  'error.send': 'Не удалось отправить сообщение. Проверьте соединение и попробуйте снова.',
  'error.fileType': 'Можно отправлять изображения (JPEG, PNG, GIF, WebP) и PDF размером до {size} МБ.',
  'error.upload': 'Не удалось загрузить файл. Попробуйте снова.',
  'file.default': 'файл',
  'unread': '{count, plural, one {# новое сообщение} few {# новых сообщения} many {# новых сообщений} other {# нового сообщения}}',
};

export const pl: Catalogue = {
  'title.default': 'Napisz do nas',
  'dialog.label': 'Czat',
  'close.label': 'Zamknij czat',
  'log.label': 'Rozmowa',
  'attach.title': 'Dołącz zdjęcie lub PDF',
  'attach.label': 'Dołącz plik',
  'input.label': 'Twoja wiadomość',
  'input.placeholder': 'Napisz wiadomość…',
  'send': 'Wyślij',
  'empty': 'Pytaj śmiało — zwykle odpowiadamy w kilka minut.',
  'meta.agent': 'Obsługa · {time}',
  'meta.failed': 'Nie wysłano — naciśnij Wyślij, aby ponowić',
  'meta.sending': 'Wysyłanie…',
  'error.send': 'Nie udało się wysłać wiadomości. Sprawdź połączenie i spróbuj ponownie.',
  'error.fileType': 'Możesz wysyłać zdjęcia (JPEG, PNG, GIF, WebP) i pliki PDF do {size} MB.',
  'error.upload': 'Nie udało się przesłać pliku. Spróbuj ponownie.',
  'file.default': 'plik',
  'unread': '{count, plural, one {# nowa wiadomość} few {# nowe wiadomości} many {# nowych wiadomości} other {# nowej wiadomości}}',
};
