// contactd's chat widget for any site:
//   <script src="https://contactd.example/widget.js" data-entry="default" async></script>
// It adds a chat bubble to the page; the bubble opens the chat in a frame served by
// contactd (/widget), so the chat talks only to its own origin, under contactd's security
// policy, and the page needs nothing else. `data-entry`: the chat entry point (widget key);
// `data-lang`: zh-CN or en (default: the page's language). The open/closed state survives
// a reload of the page, and the chat itself resumes where it was.
(function () {
  const script = document.currentScript;
  if (!script || window.contactdWidget) return;
  const base = new URL(script.src).origin;
  const entry = script.dataset.entry || 'default';
  const lang = script.dataset.lang || document.documentElement.lang || navigator.language || 'en';
  const zh = lang.toLowerCase().startsWith('zh');
  const openKey = `contactd.widget.open.${entry}`;
  let frame = null;

  const bubble = document.createElement('button');
  bubble.type = 'button';
  bubble.textContent = zh ? '在线客服' : 'Chat with us';
  bubble.setAttribute('aria-haspopup', 'dialog');
  bubble.setAttribute('aria-expanded', 'false');
  bubble.className = 'contactd-widget-bubble';
  Object.assign(bubble.style, {
    position: 'fixed', right: '20px', bottom: '20px', zIndex: '2147483000',
    padding: '12px 18px', borderRadius: '999px', border: '0', cursor: 'pointer',
    background: '#1f4e8c', color: '#fff', font: '600 15px system-ui, sans-serif',
    boxShadow: '0 4px 14px rgba(0,0,0,.25)',
  });

  function place() {
    const phone = window.innerWidth < 600;
    Object.assign(frame.style, phone
      ? { right: '0', bottom: '0', width: '100vw', height: '100vh', borderRadius: '0' }
      : { right: '20px', bottom: '80px', width: '380px', height: '560px', borderRadius: '12px' });
  }

  function open() {
    if (!frame) {
      frame = document.createElement('iframe');
      frame.src = `${base}/widget?entry=${encodeURIComponent(entry)}&lang=${zh ? 'zh-CN' : 'en'}`;
      frame.title = zh ? '在线客服' : 'Chat with us';
      frame.className = 'contactd-widget-frame';
      Object.assign(frame.style, {
        position: 'fixed', zIndex: '2147483001', border: '0', background: '#fff',
        boxShadow: '0 8px 30px rgba(0,0,0,.3)',
      });
      place();
      window.addEventListener('resize', place);
      document.body.appendChild(frame);
    }
    frame.style.display = 'block';
    bubble.setAttribute('aria-expanded', 'true');
    sessionStorage.setItem(openKey, '1');
  }

  function close() {
    if (frame) frame.style.display = 'none';
    bubble.setAttribute('aria-expanded', 'false');
    sessionStorage.removeItem(openKey);
    bubble.focus();
  }

  bubble.addEventListener('click', () => (frame && frame.style.display !== 'none' ? close() : open()));
  window.addEventListener('message', (event) => {
    if (event.origin !== base || !event.data || event.data.type !== 'contactd-widget') return;
    if (event.data.action === 'minimize') close();
  });
  window.contactdWidget = { open, close };
  document.body.appendChild(bubble);
  if (sessionStorage.getItem(openKey)) open();
}());
