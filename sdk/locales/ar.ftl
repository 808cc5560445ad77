## Aftercare messages: Arabic (Modern Standard Arabic).
## Arguments are listed in sdk/src/l10n/mod.rs. A URL always stands alone on its own line.
## `has_name` is set by the localizer: 0 when no first name is known.

tracking-shipped =
    { $has_name ->
        [0] أخبار سارّة!
       *[other] أخبار سارّة يا { $first_name }!
    } { $has_carrier ->
        [0] تم شحن طلبك { $order_number }.
       *[other] تم شحن طلبك { $order_number } مع { $carrier }.
    }{ $has_tracking_number ->
        [0] {""}
       *[other] {" "}رقم التتبع: { $tracking_number }.
    }
    تتبّع شحنتك من هنا:
    { $tracking_url }

tracking-out-for-delivery =
    { $has_name ->
        [0] مرحبًا!
       *[other] مرحبًا { $first_name }!
    } طلبك { $order_number } خرج للتوصيل ومن المتوقع أن يصلك اليوم.
    تابِعه مباشرةً:
    { $tracking_url }

tracking-delivered =
    { $has_name ->
        [0] مرحبًا!
       *[other] مرحبًا { $first_name }!
    } تم توصيل طلبك { $order_number }. نتمنى أن ينال إعجابك!

tracking-attempted =
    { $has_name ->
        [0] مرحبًا،
       *[other] مرحبًا { $first_name }،
    } { $has_carrier ->
        [0] حاولت شركة الشحن توصيل طلبك { $order_number } لكنها لم تتمكن من ذلك.
       *[other] حاولت { $carrier } توصيل طلبك { $order_number } لكنها لم تتمكن من ذلك.
    } اطّلع على الخطوات التالية أو اختر موعدًا جديدًا للتوصيل:
    { $tracking_url }

tracking-exception =
    { $has_name ->
        [0] مرحبًا،
       *[other] مرحبًا { $first_name }،
    } حدثت مشكلة في توصيل طلبك { $order_number }{ $has_carrier ->
        [0] {""}
       *[other] {" "}({ $carrier })
    }. نحن نتابعها الآن. التفاصيل:
    { $tracking_url }

tracking-delayed =
    { $has_name ->
        [0] مرحبًا،
       *[other] مرحبًا { $first_name }،
    } تأخّر طلبك { $order_number } عن موعده. { $has_eta ->
        [0] لا يتوفر موعد جديد للتوصيل بعد، وسنُبلغك به.
       *[other] الموعد المتوقع الجديد للتوصيل هو { $eta }.
    } نعتذر عن الانتظار!
    تتبّعه من هنا:
    { $tracking_url }

content-tutorial =
    { $has_name ->
        [0] مرحبًا!
       *[other] مرحبًا { $first_name }!
    } إليك كيف تستفيد إلى أقصى حد من { $product_title }:
    { $url }

support-link =
    هل تحتاج إلى مساعدة بخصوص طلبك؟ تواصل مع { $shop_name } من هنا:
    { $url }

survey-nps-invite =
    { $has_name ->
        [0] مرحبًا!
       *[other] مرحبًا { $first_name }!
    } ما مدى احتمال أن ترشّح { $shop_name } لأحد أصدقائك؟ { $replies ->
        [0] اختر تقييمًا من ٠ إلى ١٠ من هنا:
       *[other] أرسل رقمًا من ٠ (غير محتمل) إلى ١٠ (محتمل جدًا) أو أجب هنا:
    }
    { $url }

survey-csat-invite =
    { $has_name ->
        [0] مرحبًا!
       *[other] مرحبًا { $first_name }!
    } ما مدى رضاك عن طلبك { $order_number }؟ { $replies ->
        [0] اختر تقييمًا من ١ إلى ٥ من هنا:
       *[other] أرسل رقمًا من ١ (غير راضٍ إطلاقًا) إلى ٥ (راضٍ جدًا)، أو أجب من هنا:
    }
    { $url }

survey-reask = عذرًا، لم نتمكن من فهم ردّك. يُرجى إرسال رقم فقط من { $score_min } إلى { $score_max }.

survey-clarify = شكرًا لك! يحتوي ردّك على أكثر من رقم، لذا لا نعرف أيّ تقييم تقصد. يُرجى الرد برقم واحد فقط من { $score_min } إلى { $score_max }.

survey-thanks =
    { $has_name ->
        [0] شكرًا لك على رأيك!
       *[other] شكرًا لك يا { $first_name } على رأيك!
    } فهو يساعدنا على التحسّن.

survey-closed = شكرًا على ردّك! هذا الاستطلاع مغلق الآن، لذا لا يمكننا تسجيل إجابتك.

optout-confirmed = تم إلغاء اشتراكك ولن تصلك رسائل أخرى من { $shop_name } هنا. لإعادة الاشتراك أرسل START.

optin-confirmed = تمت إعادة اشتراكك في رسائل { $shop_name }. يمكنك إلغاء الاشتراك في أي وقت بإرسال «إيقاف» أو STOP.

help-reply =
    { $shop_name }: تحديثات الطلبات وطلبات التقييم. قد تُطبَّق رسوم الرسائل والبيانات. لإلغاء الاشتراك أرسل «إيقاف» أو STOP. للمساعدة:
    { $url }

email-subject-shipped = طلبك { $order_number } في الطريق إليك

email-subject-survey = ما رأيك في طلبك من { $shop_name }؟

stop-hint = للإلغاء أرسل STOP

quiet-footer = تصلك هذه الرسالة لأنك طلبت من { $shop_name }.

email-footer-stop = { $replies ->
        [0] لا تريد هذه الرسائل؟ أخبر { $shop_name } وسنتوقف.
       *[other] لا تريد هذه الرسائل؟ أرسل «إيقاف» ردًا عليها.
    }

# WhatsApp template parameters when a value is missing (a template has no selectors).
whatsapp-no-name = عميلنا العزيز
whatsapp-no-carrier = شركة الشحن
whatsapp-no-tracking-number = في صفحة التتبع
