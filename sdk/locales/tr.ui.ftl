## Aftercare: page labels and further messages, Turkish.

tracking-ready-for-pickup =
    { $has_name ->
        [0] Merhaba!
       *[other] Merhaba { $first_name }!
    } { $order_number } numaralı siparişiniz teslim almaya hazır. Ayrıntılar ve çalışma saatleri:
    { $tracking_url }
survey-reminder =
    { $has_name ->
        [0] Tekrar merhaba!
       *[other] Tekrar merhaba { $first_name }!
    } { $order_number } numaralı siparişiniz nasıldı? Birkaç saniyenizi alır:
    { $url }
survey-ces-invite =
    { $has_name ->
        [0] Merhaba!
       *[other] Merhaba { $first_name }!
    } { $order_number } numaralı siparişinizi almak ne kadar kolaydı? { $replies ->
        [0] 1 ile 7 arasında puanınızı buradan verin:
       *[other] 1 (çok zor) ile 7 (çok kolay) arası yazın veya dokunun:
    }
    { $url }
review-request =
    Güzel puanınız için teşekkürler! Kısa bir yorumla paylaşır mısınız? Diğer müşterilere yardımcı olur:
    { $url }
support-detractor-alert = Memnun olmayan müşteri: { $order_number } numaralı sipariş { $kind } { $score } aldı.{ $has_comment ->
        [0] {""}
       *[other] {" "}Yorum: { $comment }
    }
email-subject-update = { $order_number } numaralı siparişinizle ilgili güncelleme
email-subject-alert = { $order_number } numaralı siparişte memnun olmayan müşteri
tutorials-intro = Ürününüzü kullanmaya başlayın:
page-order = Sipariş
page-status = Durum
page-carrier = Kargo firması
page-tracking-number = Takip numarası
page-estimated-delivery = Tahmini teslimat
page-track-on-carrier = Kargo firmasının sitesinde takip edin
page-timeline = Gönderi geçmişi
page-items = Ürünler
page-tutorials = Ürünleriniz için rehberler
page-support = Destekle iletişime geçin
page-link-invalid = Bu bağlantı geçerli değil.
page-link-expired = Bu bağlantının süresi doldu.
page-unavailable = Bu sayfa şu anda kullanılamıyor. Lütfen birkaç dakika sonra tekrar deneyin.
status-confirmed = Sipariş onaylandı
status-label-created = Kargo etiketi oluşturuldu
status-picked-up = Kargo firması teslim aldı
status-in-transit = Yolda
status-out-for-delivery = Dağıtımda
status-attempted-delivery = Teslimat denendi
status-ready-for-pickup = Teslim almaya hazır
status-delivered = Teslim edildi
status-delayed = Gecikmeli
status-exception = Teslimat sorunu
status-returned = Göndericiye iade edildi
status-cancelled = İptal edildi
status-unknown = Durum güncellemesi
survey-nps-question = { $shop_name } mağazasını bir arkadaşınıza önerme olasılığınız nedir?
survey-csat-question = { $shop_name } siparişinizden ne kadar memnunsunuz?
survey-ces-question = { $shop_name } siparişinizi almak ne kadar kolaydı?
survey-nps-low = Hiç olası değil
survey-nps-high = Kesinlikle öneririm
survey-csat-low = Hiç memnun değilim
survey-csat-high = Çok memnunum
survey-ces-low = Çok zor
survey-ces-high = Çok kolay
survey-comment-label = Puanınızın ana nedeni nedir? (isteğe bağlı)
survey-submit = Gönder
survey-confirm-hint = Puanınız seçildi. Onaylamak için Gönder'e dokunun.
survey-already-answered = Zaten yanıtladınız. Teşekkürler!
survey-pick-a-score = Lütfen bir puan seçin.
dash-title = Müşteri memnuniyeti
dash-response-rate = Yanıt oranı
dash-trend = Haftalık NPS
dash-distribution = Puan dağılımı
dash-by-carrier = Kargo firmasına göre
dash-by-product = Ürüne göre
dash-by-lateness = Teslimat gecikmesine göre
dash-week = Hafta
dash-responses = Yanıt
dash-login-title = Panoya giriş yapın
dash-login-key = Pano anahtarı
dash-login-submit = Giriş yap
dash-login-wrong = Bu anahtar doğru değil.
dash-logout = Çıkış yap

# The carrier's own text and the pickup point (tracking sources).
carrier-note = Kargo firmasının notu: { $carrier_note }
pickup-point = Teslim alma noktası: { $pickup_point }
page-pickup-point = Teslim alma noktası
dash-too-few = Puan için yanıt sayısı çok az
dash-csat-distribution = CSAT yanıtları (1–5)
dash-ces-distribution = CES yanıtları (1–7)
dash-group = Grup
dash-lateness-on-time = Zamanında
dash-lateness-1-2 = 1–2 gün gecikmeli
dash-lateness-3-plus = 3 gün veya daha fazla gecikmeli
dash-unknown = Bilinmiyor
dash-download = Yanıtları indirin:
recovery-apology =
    { $has_name ->
        [0] Özür dileriz,
       *[other] { $first_name }, özür dileriz,
    } { $order_number } numaralı siparişiniz olması gerektiği gibi ulaşmadı. Konuyla ilgileniyoruz ve telafi edeceğiz.
recovery-apology-code =
    { $has_name ->
        [0] Özür dileriz,
       *[other] { $first_name }, özür dileriz,
    } { $order_number } numaralı siparişiniz olması gerektiği gibi ulaşmadı. Özrümüzün bir ifadesi olarak { $code } koduyla bir sonraki siparişinizde { $discount } indirim sizi bekliyor.

page-error-help = { $shop_name } siparişinizle ilgili yardımcı olmaktan memnuniyet duyar.
page-back-to-shop = { $shop_name } mağazasına dön
survey-review-prompt = Beğenmenize sevindik! Bir değerlendirmeyle başkalarına da anlatır mısınız?
survey-review-link = Değerlendirme yazın
