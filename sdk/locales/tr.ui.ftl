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

# The dashboard's retention page.
ret-title = Müşteri tutma
ret-customers = Müşteriler
ret-repeat-customers = İki veya daha fazla sipariş verenler
ret-repeat-rate = { $days } gün içinde yeniden sipariş
ret-median = İkinci siparişe kadar geçen medyan süre
ret-days = { $days } gün
ret-churn = Kaybedilen: { $days } gündür sipariş yok (medyan aralık olan { $median } günün { $multiple } katı)
ret-churn-none = Kayıp: henüz iki kez sipariş veren müşteri yok
ret-too-few = Müşteri sayısı çok az
ret-download = Rakamları indirin:
ret-costs = Deneyimin bedeli
ret-compare-with = karşılaştırma:
ret-compare-too-few = karşılaştırmak için müşteri sayısı çok az
ret-compare-same = belirgin bir fark yok
ret-compare-less = { $points } puan daha az
ret-compare-more = { $points } puan daha fazla
ret-chart-lateness = İlk teslimatın gecikmesine göre yeniden sipariş oranı (%95 aralıklar)
ret-chart-cohorts = İlk siparişten bu yana geçen aylara göre ikinci sipariş verenlerin payı, ilk sipariş ayı başına
ret-cohorts = İlk sipariş ayına göre gruplar
ret-first-order = İlk sipariş
ret-months = { $months }. ay
ret-dim-lateness = Teslimat gecikmesi
ret-dim-carrier = Kargo firması
ret-dim-exception = Gönderi sorunu
ret-dim-failed-attempt = Başarısız teslimat denemesi
ret-dim-nps = NPS yanıtı
ret-dim-csat = CSAT yanıtı
ret-dim-ces = CES yanıtı
ret-dim-product = İlk ürün
ret-dim-recovery = Telafi
ret-yes = Evet
ret-no = Hayır
ret-group-promoter = Destekçiler
ret-group-passive = Pasifler
ret-group-detractor = Eleştirenler
ret-group-satisfied = Memnun
ret-group-neutral = Nötr
ret-group-unsatisfied = Memnun değil
ret-group-easy = Kolay
ret-group-hard = Zor
ret-group-recovered = Telafi yapıldı
ret-group-not-recovered = Telafi yapılmadı
