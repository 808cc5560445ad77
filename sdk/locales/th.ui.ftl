## Aftercare: page labels and further messages, Thai.

tracking-ready-for-pickup =
    { $has_name ->
        [0] สวัสดีค่ะ
       *[other] สวัสดีค่ะ คุณ{ $first_name }
    } คำสั่งซื้อ { $order_number } พร้อมให้รับแล้ว ดูรายละเอียดและเวลาทำการ:
    { $tracking_url }
survey-reminder =
    { $has_name ->
        [0] สวัสดีอีกครั้งค่ะ
       *[other] สวัสดีอีกครั้งค่ะ คุณ{ $first_name }
    } คำสั่งซื้อ { $order_number } เป็นอย่างไรบ้าง บอกเราได้ในไม่กี่วินาที:
    { $url }
survey-ces-invite =
    { $has_name ->
        [0] สวัสดีค่ะ
       *[other] สวัสดีค่ะ คุณ{ $first_name }
    } การรับคำสั่งซื้อ { $order_number } ง่ายแค่ไหน { $replies ->
        [0] ให้คะแนน 1 ถึง 7 ได้ที่:
       *[other] ตอบกลับเป็นตัวเลข 1 (ยากมาก) ถึง 7 (ง่ายมาก) หรือตอบได้ที่:
    }
    { $url }
review-request =
    ขอบคุณสำหรับคะแนนที่ดี! ช่วยเขียนรีวิวสั้น ๆ ได้ไหมคะ? จะช่วยลูกค้าคนอื่น ๆ ได้มาก:
    { $url }
support-detractor-alert = ลูกค้าไม่พอใจ: คำสั่งซื้อ { $order_number } ได้ { $kind } { $score }{ $has_comment ->
        [0] {""}
       *[other] {" "}ความคิดเห็น: { $comment }
    }
email-subject-update = อัปเดตคำสั่งซื้อ { $order_number } ของคุณ
email-subject-alert = ลูกค้าไม่พอใจในคำสั่งซื้อ { $order_number }
tutorials-intro = เริ่มต้นใช้งานสินค้าของคุณ:
page-order = คำสั่งซื้อ
page-status = สถานะ
page-carrier = บริษัทขนส่ง
page-tracking-number = หมายเลขพัสดุ
page-estimated-delivery = วันที่คาดว่าจะได้รับ
page-track-on-carrier = ติดตามบนเว็บไซต์บริษัทขนส่ง
page-timeline = ประวัติการจัดส่ง
page-items = สินค้า
page-tutorials = คู่มือสำหรับสินค้าของคุณ
page-support = ติดต่อฝ่ายบริการลูกค้า
page-link-invalid = ลิงก์นี้ไม่ถูกต้อง
page-link-expired = ลิงก์นี้หมดอายุแล้ว
page-unavailable = หน้านี้ไม่พร้อมใช้งานในขณะนี้ โปรดลองอีกครั้งในอีกสักครู่
status-confirmed = ยืนยันคำสั่งซื้อแล้ว
status-label-created = สร้างใบปะหน้าพัสดุแล้ว
status-picked-up = บริษัทขนส่งรับพัสดุแล้ว
status-in-transit = อยู่ระหว่างขนส่ง
status-out-for-delivery = กำลังนำจ่าย
status-attempted-delivery = นำจ่ายไม่สำเร็จ
status-ready-for-pickup = พร้อมให้รับ
status-delivered = จัดส่งสำเร็จ
status-delayed = ล่าช้า
status-exception = มีปัญหาในการจัดส่ง
status-returned = ตีกลับไปยังผู้ส่ง
status-cancelled = ยกเลิกแล้ว
status-unknown = อัปเดตสถานะ
survey-nps-question = คุณมีแนวโน้มจะแนะนำ { $shop_name } ให้เพื่อนมากน้อยแค่ไหน
survey-csat-question = คุณพึงพอใจกับคำสั่งซื้อจาก { $shop_name } มากน้อยแค่ไหน
survey-ces-question = การรับคำสั่งซื้อจาก { $shop_name } ง่ายแค่ไหน
survey-nps-low = ไม่แนะนำเลย
survey-nps-high = แนะนำแน่นอน
survey-csat-low = ไม่พอใจมาก
survey-csat-high = พอใจมาก
survey-ces-low = ยากมาก
survey-ces-high = ง่ายมาก
survey-comment-label = เหตุผลหลักของคะแนนนี้คืออะไร? (ไม่บังคับ)
survey-submit = ส่ง
survey-confirm-hint = เลือกคะแนนแล้ว แตะ "ส่ง" เพื่อยืนยัน
survey-already-answered = คุณตอบแบบสำรวจนี้แล้ว ขอบคุณค่ะ!
survey-pick-a-score = โปรดเลือกคะแนน
dash-title = ความพึงพอใจของลูกค้า
dash-response-rate = อัตราการตอบกลับ
dash-trend = NPS รายสัปดาห์
dash-distribution = การกระจายของคะแนน
dash-by-carrier = ตามบริษัทขนส่ง
dash-by-product = ตามสินค้า
dash-by-lateness = ตามความล่าช้าในการจัดส่ง
dash-week = สัปดาห์
dash-responses = คำตอบ
dash-login-title = ลงชื่อเข้าใช้แดชบอร์ด
dash-login-key = รหัสแดชบอร์ด
dash-login-submit = ลงชื่อเข้าใช้
dash-login-wrong = รหัสนี้ไม่ถูกต้อง
dash-logout = ออกจากระบบ

# The carrier's own text and the pickup point (tracking sources).
carrier-note = ข้อความจากผู้ให้บริการขนส่ง: { $carrier_note }
pickup-point = จุดรับพัสดุ: { $pickup_point }
page-pickup-point = จุดรับพัสดุ
dash-too-few = คำตอบยังน้อยเกินไปที่จะคำนวณคะแนน
dash-csat-distribution = คำตอบ CSAT (1–5)
dash-ces-distribution = คำตอบ CES (1–7)
dash-group = กลุ่ม
dash-lateness-on-time = ตรงเวลา
dash-lateness-1-2 = ล่าช้า 1–2 วัน
dash-lateness-3-plus = ล่าช้า 3 วันขึ้นไป
dash-unknown = ไม่ทราบ
dash-download = ดาวน์โหลดคำตอบ:
recovery-apology =
    { $has_name ->
        [0] ขออภัย
       *[other] ขออภัยคุณ{ $first_name }
    } ที่คำสั่งซื้อ { $order_number } ไม่ได้มาถึงอย่างที่ควรเป็น เรากำลังดำเนินการแก้ไขให้เรียบร้อย
recovery-apology-code =
    { $has_name ->
        [0] ขออภัย
       *[other] ขออภัยคุณ{ $first_name }
    } ที่คำสั่งซื้อ { $order_number } ไม่ได้มาถึงอย่างที่ควรเป็น เพื่อเป็นการขอโทษ รับส่วนลด { $discount } สำหรับคำสั่งซื้อถัดไปด้วยโค้ด { $code }

page-error-help = { $shop_name } ยินดีช่วยเหลือเกี่ยวกับคำสั่งซื้อของคุณ
page-back-to-shop = กลับไปที่ { $shop_name }
survey-review-prompt = ดีใจที่คุณชอบ! ช่วยเล่าให้คนอื่นฟังในรีวิวได้ไหม
survey-review-link = เขียนรีวิว

# The dashboard's retention page.
ret-title = การรักษาลูกค้า
ret-customers = ลูกค้า
ret-repeat-customers = สั่งซื้อตั้งแต่สองครั้งขึ้นไป
ret-repeat-rate = สั่งซื้อซ้ำภายใน { $days } วัน
ret-median = ค่ามัธยฐานของเวลาถึงคำสั่งซื้อที่สอง
ret-days = { $days } วัน
ret-churn = เลิกซื้อ: ไม่มีคำสั่งซื้อมา { $days } วัน ({ $multiple } × ช่วงห่างมัธยฐาน { $median } วัน)
ret-churn-none = การเลิกซื้อ: ยังไม่มีลูกค้าที่สั่งซื้อสองครั้ง
ret-too-few = ลูกค้าน้อยเกินไป
ret-download = ดาวน์โหลดตัวเลข:
ret-costs = ประสบการณ์ส่งผลอย่างไร
ret-compare-with = เทียบกับ
ret-compare-too-few = ลูกค้าน้อยเกินไปที่จะเปรียบเทียบ
ret-compare-same = ไม่มีความแตกต่างชัดเจน
ret-compare-less = น้อยกว่า { $points } จุด
ret-compare-more = มากกว่า { $points } จุด
ret-chart-lateness = อัตราการซื้อซ้ำตามความล่าช้าของการจัดส่งครั้งแรก (ช่วง 95%)
ret-chart-cohorts = สัดส่วนที่สั่งซื้อครั้งที่สอง ตามจำนวนเดือนนับจากครั้งแรก แยกตามเดือนที่สั่งซื้อครั้งแรก
ret-cohorts = กลุ่มตามเดือนที่สั่งซื้อครั้งแรก
ret-first-order = คำสั่งซื้อแรก
ret-months = เดือนที่ { $months }
ret-dim-lateness = ความล่าช้าในการจัดส่ง
ret-dim-carrier = บริษัทขนส่ง
ret-dim-exception = ปัญหาการจัดส่ง
ret-dim-failed-attempt = การจัดส่งไม่สำเร็จ
ret-dim-nps = คำตอบ NPS
ret-dim-csat = คำตอบ CSAT
ret-dim-ces = คำตอบ CES
ret-dim-product = สินค้าแรก
ret-dim-recovery = การแก้ไขปัญหาให้ลูกค้า
ret-yes = ใช่
ret-no = ไม่ใช่
ret-group-promoter = ผู้สนับสนุน
ret-group-passive = ผู้เฉยๆ
ret-group-detractor = ผู้ไม่พอใจ
ret-group-satisfied = พอใจ
ret-group-neutral = เฉยๆ
ret-group-unsatisfied = ไม่พอใจ
ret-group-easy = ง่าย
ret-group-hard = ยาก
ret-group-recovered = ได้รับการแก้ไขปัญหา
ret-group-not-recovered = ไม่ได้รับการแก้ไขปัญหา
