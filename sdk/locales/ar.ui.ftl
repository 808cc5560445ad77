## Aftercare: page labels and further messages, Arabic.

tracking-ready-for-pickup =
    { $has_name ->
        [0] مرحبًا!
       *[other] مرحبًا { $first_name }!
    } طلبك { $order_number } جاهز للاستلام. التفاصيل ومواعيد العمل:
    { $tracking_url }
survey-reminder =
    { $has_name ->
        [0] مرحبًا مجددًا!
       *[other] مرحبًا مجددًا يا { $first_name }!
    } ما زلنا نودّ معرفة رأيك في طلبك { $order_number }. لن يستغرق الأمر سوى ثوانٍ:
    { $url }
survey-ces-invite =
    { $has_name ->
        [0] مرحبًا!
       *[other] مرحبًا { $first_name }!
    } ما مدى سهولة حصولك على طلبك { $order_number }؟ { $replies ->
        [0] اختر تقييمًا من ١ إلى ٧ من هنا:
       *[other] أرسل رقمًا من ١ (صعب جدًا) إلى ٧ (سهل جدًا)، أو أجب من هنا:
    }
    { $url }
review-request =
    شكرًا على تقييمك الرائع! هل تشاركنا إياه في مراجعة قصيرة؟ سيساعد ذلك عملاء آخرين:
    { $url }
support-detractor-alert = عميل غير راضٍ: الطلب { $order_number } حصل على { $kind } { $score }.{ $has_comment ->
        [0] {""}
       *[other] {" "}التعليق: { $comment }
    }
email-subject-update = تحديث بخصوص طلبك { $order_number }
email-subject-alert = عميل غير راضٍ بخصوص الطلب { $order_number }
tutorials-intro = ابدأ باستخدام مشترياتك:
page-order = الطلب
page-status = الحالة
page-carrier = شركة الشحن
page-tracking-number = رقم التتبع
page-estimated-delivery = موعد التوصيل المتوقع
page-track-on-carrier = تتبّع على موقع شركة الشحن
page-timeline = سجلّ الشحنة
page-items = المنتجات
page-tutorials = أدلة لمنتجاتك
page-support = تواصل مع الدعم
page-link-invalid = هذا الرابط غير صالح.
page-link-expired = انتهت صلاحية هذا الرابط.
page-unavailable = هذه الصفحة غير متاحة حاليًا. يُرجى المحاولة بعد دقائق.
status-confirmed = تم تأكيد الطلب
status-label-created = تم إنشاء بوليصة الشحن
status-picked-up = استلمتها شركة الشحن
status-in-transit = في الطريق
status-out-for-delivery = خرجت للتوصيل
status-attempted-delivery = تمت محاولة التوصيل
status-ready-for-pickup = جاهزة للاستلام
status-delivered = تم التوصيل
status-delayed = متأخرة
status-exception = مشكلة في التوصيل
status-returned = أُعيدت إلى المرسل
status-cancelled = أُلغيت
status-unknown = تحديث الحالة
survey-nps-question = ما مدى احتمال أن ترشّح { $shop_name } لأحد أصدقائك؟
survey-csat-question = ما مدى رضاك عن طلبك من { $shop_name }؟
survey-ces-question = ما مدى سهولة حصولك على طلبك من { $shop_name }؟
survey-nps-low = غير محتمل إطلاقًا
survey-nps-high = محتمل جدًا
survey-csat-low = غير راضٍ إطلاقًا
survey-csat-high = راضٍ جدًا
survey-ces-low = صعب جدًا
survey-ces-high = سهل جدًا
survey-comment-label = ما السبب الرئيسي لتقييمك؟ (اختياري)
survey-submit = إرسال
survey-confirm-hint = تم اختيار تقييمك. اضغط «إرسال» لتأكيده.
survey-already-answered = لقد أجبت بالفعل. شكرًا لك!
survey-pick-a-score = يُرجى اختيار تقييم.
dash-title = رضا العملاء
dash-response-rate = معدل الاستجابة
dash-trend = صافي نقاط الترويج أسبوعيًا
dash-distribution = توزيع التقييمات
dash-by-carrier = حسب شركة الشحن
dash-by-product = حسب المنتج
dash-by-lateness = حسب تأخر التوصيل
dash-week = الأسبوع
dash-responses = الإجابات
dash-login-title = تسجيل الدخول إلى لوحة المعلومات
dash-login-key = مفتاح لوحة المعلومات
dash-login-submit = تسجيل الدخول
dash-login-wrong = هذا المفتاح غير صحيح.
dash-logout = تسجيل الخروج

# The carrier's own text and the pickup point (tracking sources).
carrier-note = تحديث شركة الشحن: { $carrier_note }
pickup-point = نقطة الاستلام: { $pickup_point }
page-pickup-point = نقطة الاستلام
dash-too-few = عدد الإجابات غير كافٍ لحساب النتيجة
dash-csat-distribution = إجابات CSAT (١–٥)
dash-ces-distribution = إجابات CES (١–٧)
dash-group = المجموعة
dash-lateness-on-time = في الموعد
dash-lateness-1-2 = متأخر ١–٢ يوم
dash-lateness-3-plus = متأخر ٣ أيام أو أكثر
dash-unknown = غير معروف
dash-download = تنزيل الإجابات:
recovery-apology =
    { $has_name ->
        [0] نعتذر
       *[other] نعتذر يا { $first_name }
    } لأن طلبك { $order_number } لم يصل كما ينبغي. نحن نتابع الأمر وسنصلحه.
recovery-apology-code =
    { $has_name ->
        [0] نعتذر
       *[other] نعتذر يا { $first_name }
    } لأن طلبك { $order_number } لم يصل كما ينبغي. اعتذارًا منّا، إليك خصم { $discount } على طلبك القادم بالرمز { $code }.

page-error-help = يسعد { $shop_name } مساعدتك في طلبك.
page-back-to-shop = العودة إلى { $shop_name }
survey-review-prompt = يسعدنا أن الطلب أعجبك! هل تشارك رأيك في تقييم؟
survey-review-link = اكتب تقييمًا

# The dashboard's retention page.
ret-title = الاحتفاظ بالعملاء
ret-customers = العملاء
ret-repeat-customers = طلبوا مرتين أو أكثر
ret-repeat-rate = أعادوا الطلب خلال { $days } يومًا
ret-median = الوسيط حتى الطلب الثاني
ret-days = { $days } يومًا
ret-churn = المنقطعون: لا طلب منذ { $days } يومًا ({ $multiple } × الفاصل الوسيط البالغ { $median } يومًا)
ret-churn-none = الانقطاع: لم يطلب أي عميل مرتين بعد
ret-too-few = عدد العملاء غير كافٍ
ret-download = تنزيل الأرقام:
ret-costs = ما تكلّفه التجربة
ret-compare-with = مقارنةً بـ
ret-compare-too-few = عدد العملاء غير كافٍ للمقارنة
ret-compare-same = لا فرق واضح
ret-compare-less = أقل بـ { $points } نقطة
ret-compare-more = أكثر بـ { $points } نقطة
ret-chart-lateness = نسبة إعادة الطلب حسب تأخر التوصيل الأول (فترات 95%)
ret-chart-cohorts = نسبة من طلبوا مرة ثانية حسب الأشهر منذ الطلب الأول، لكل شهر طلب أول
ret-cohorts = المجموعات حسب شهر الطلب الأول
ret-first-order = الطلب الأول
ret-months = { $months } شهر
ret-dim-lateness = تأخر التوصيل
ret-dim-carrier = شركة الشحن
ret-dim-exception = مشكلة في الشحنة
ret-dim-failed-attempt = محاولة توصيل فاشلة
ret-dim-nps = إجابة NPS
ret-dim-csat = إجابة CSAT
ret-dim-ces = إجابة CES
ret-dim-product = المنتج الأول
ret-dim-recovery = معالجة التجربة
ret-yes = نعم
ret-no = لا
ret-group-promoter = المروّجون
ret-group-passive = المحايدون
ret-group-detractor = المنتقدون
ret-group-satisfied = راضون
ret-group-neutral = محايدون
ret-group-unsatisfied = غير راضين
ret-group-easy = سهل
ret-group-hard = صعب
ret-group-recovered = اتُّخذ إجراء لمعالجة التجربة
ret-group-not-recovered = لم يُتّخذ إجراء
