## Aftercare messages: Turkish (formal "siz").
## Arguments are listed in sdk/src/l10n/mod.rs. A URL always stands alone on its own line.
## `has_name` is set by the localizer: 0 when no first name is known.
## Names are never followed by a suffix (no "{ $carrier }'a"): Turkish suffixes depend on
## the sound of the word, so sentences are built around them ("{ $carrier } ile").

tracking-shipped =
    { $has_name ->
        [0] Müjde!
       *[other] Müjde, { $first_name }!
    } { $has_carrier ->
        [0] { $order_number } numaralı siparişiniz kargoya verildi.
       *[other] { $order_number } numaralı siparişiniz { $carrier } ile kargoya verildi.
    }{ $has_tracking_number ->
        [0] {""}
       *[other] {" "}Takip numarası: { $tracking_number }.
    }
    Kargonuzu buradan takip edebilirsiniz:
    { $tracking_url }

tracking-out-for-delivery =
    { $has_name ->
        [0] Merhaba!
       *[other] Merhaba { $first_name }!
    } { $order_number } numaralı siparişiniz dağıtıma çıktı, bugün elinizde olması bekleniyor.
    Canlı takip edin:
    { $tracking_url }

tracking-delivered =
    { $has_name ->
        [0] Merhaba!
       *[other] Merhaba { $first_name }!
    } { $order_number } numaralı siparişiniz teslim edildi. Umarız çok beğenirsiniz!

tracking-attempted =
    { $has_name ->
        [0] Merhaba,
       *[other] Merhaba { $first_name },
    } { $order_number } numaralı siparişiniz teslim edilemedi{ $has_carrier ->
        [0] {""}
       *[other] {" "}({ $carrier })
    }. Sonraki adımlar ve yeni teslimat zamanı için:
    { $tracking_url }

tracking-exception =
    { $has_name ->
        [0] Merhaba,
       *[other] Merhaba { $first_name },
    } { $order_number } numaralı siparişinizin teslimatında bir sorun oluştu{ $has_carrier ->
        [0] {""}
       *[other] {" "}({ $carrier })
    }. Konuyla ilgileniyoruz. Ayrıntılar:
    { $tracking_url }

tracking-delayed =
    { $has_name ->
        [0] Merhaba,
       *[other] Merhaba { $first_name },
    } { $order_number } numaralı siparişiniz gecikiyor. { $has_eta ->
        [0] Yeni teslimat tarihi henüz belli değil, sizi bilgilendireceğiz.
       *[other] Yeni tahmini teslimat tarihi: { $eta }.
    } Özür dileriz!
    Buradan takip edebilirsiniz:
    { $tracking_url }

content-tutorial =
    { $has_name ->
        [0] Merhaba!
       *[other] Merhaba { $first_name }!
    } Aldığınız üründen en iyi şekilde yararlanmanın yolları ({ $product_title }):
    { $url }

support-link =
    Siparişinizle ilgili yardıma mı ihtiyacınız var? { $shop_name } ile buradan iletişime geçebilirsiniz:
    { $url }

survey-nps-invite =
    { $has_name ->
        [0] Merhaba!
       *[other] Merhaba { $first_name }!
    } { $shop_name } mağazasını arkadaşınıza ne kadar önerirsiniz? { $replies ->
        [0] 0 ile 10 arasında puanınızı buradan verin:
       *[other] 0 (hiç) ile 10 (kesinlikle) arası yazın veya dokunun:
    }
    { $url }

survey-csat-invite =
    { $has_name ->
        [0] Merhaba!
       *[other] Merhaba { $first_name }!
    } { $order_number } numaralı siparişinizden ne kadar memnunsunuz? { $replies ->
        [0] 1 ile 5 arasında puanınızı buradan verin:
       *[other] 1 (hiç) ile 5 (çok) arası yazın veya dokunun:
    }
    { $url }

survey-reask = Üzgünüz, yanıtınızı anlayamadık. Lütfen yalnızca { $score_min } ile { $score_max } arasında bir sayı gönderin.

survey-clarify = Teşekkürler! Yanıtınızda birden fazla sayı var, bu yüzden hangi puanı kastettiğinizi bilemiyoruz. Lütfen { $score_min } ile { $score_max } arasında yalnızca tek bir sayı gönderin.

survey-thanks =
    { $has_name ->
        [0] Geri bildiriminiz için teşekkürler!
       *[other] Geri bildiriminiz için teşekkürler, { $first_name }!
    } Daha iyisini yapmamıza yardımcı oluyor.

survey-closed = Yanıtınız için teşekkürler! Bu anket sona erdiği için cevabınızı kaydedemiyoruz.

optout-confirmed = Aboneliğiniz iptal edildi; { $shop_name } size buradan artık mesaj göndermeyecek. Yeniden abone olmak için START yazın.

optin-confirmed = { $shop_name } mesajlarına yeniden abone oldunuz. İstediğiniz zaman DUR veya STOP yazarak ayrılabilirsiniz.

help-reply =
    { $shop_name }: sipariş bildirimleri ve memnuniyet anketleri. Mesaj ve veri ücretleri uygulanabilir. Abonelikten çıkmak için DUR veya STOP yazın. Yardım:
    { $url }

email-subject-shipped = { $order_number } numaralı siparişiniz yola çıktı

email-subject-survey = { $shop_name } siparişinizi nasıl buldunuz?

stop-hint = Çıkmak için DUR yazın.

quiet-footer = Bu mesajı { $shop_name } üzerinden sipariş verdiğiniz için alıyorsunuz.

email-footer-stop = { $replies ->
        [0] Bu e-postaları almak istemiyor musunuz? { $shop_name } mağazasına bildirin, gönderimi durduralım.
       *[other] Bu e-postaları almak istemiyor musunuz? DUR yazarak yanıtlayın.
    }

# WhatsApp template parameters when a value is missing (a template has no selectors).
whatsapp-no-name = değerli müşterimiz
whatsapp-no-carrier = kargo firması
whatsapp-no-tracking-number = takip sayfasında
